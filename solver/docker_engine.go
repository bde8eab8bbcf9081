package solver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// A Docker engine's image load API, reached with net/http over its unix socket: archc
// needs two endpoints (ping, load), not the docker client module and its dependencies.

// defaultDockerSocket is where an engine listens when DOCKER_HOST is unset.
const defaultDockerSocket = "/var/run/docker.sock"

const (
	// dockerPingTimeout bounds the check that an engine answers.
	dockerPingTimeout = 3 * time.Second
	// dockerLoadTimeout bounds the wait for the engine's answer once the whole archive is
	// sent (it unpacks the layers meanwhile; the stream itself runs as long as the export).
	dockerLoadTimeout = 10 * time.Minute
	// maxLoadResponse bounds what is read of the engine's answer.
	maxLoadResponse = 1 << 20
)

// dockerEngine is an engine answering on a unix socket.
type dockerEngine struct {
	// host is how the engine is named in messages ("unix:///var/run/docker.sock").
	host   string
	client *http.Client
}

// findDockerEngine looks for the engine DOCKER_HOST names (unix:// only) or, when it is
// unset, the one at defaultSocket; the engine must answer a ping. It returns nil and why
// when there is none.
func findDockerEngine(ctx context.Context, getenv func(string) string, defaultSocket string) (*dockerEngine, string) {
	socket := defaultSocket
	if h := getenv("DOCKER_HOST"); h != "" {
		p, ok := strings.CutPrefix(h, "unix://")
		if !ok || p == "" {
			return nil, fmt.Sprintf("DOCKER_HOST=%s is not a unix socket, the only kind archc loads images through", h)
		}
		socket = p
	}
	e := newDockerEngine(socket)
	ctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	if err := e.ping(ctx); err != nil {
		return nil, fmt.Sprintf("%s: %v", e.host, err)
	}
	return e, ""
}

func newDockerEngine(socket string) *dockerEngine {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}
	return &dockerEngine{host: "unix://" + socket, client: &http.Client{Transport: tr}}
}

// ping asks the engine whether it is there (GET /_ping).
func (e *dockerEngine) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		// The dial error names the socket; the cause is what a reader needs.
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			return op.Err
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxLoadResponse))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ping: %s", resp.Status)
	}
	return nil
}

// load starts POST /images/load; what is written to the returned writer is the request
// body, and Close waits for the engine's verdict.
func (e *dockerEngine) load(tags []string) io.WriteCloser {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	l := &engineLoad{pw: pw, cancel: cancel, done: make(chan error, 1), host: e.host, tags: tags}
	go func() {
		err := e.post(ctx, pr)
		// A request that ended early must not leave the exporter blocked on a write.
		pr.CloseWithError(fmt.Errorf("docker engine %s stopped reading: %w", e.host, errOr(err, io.ErrClosedPipe)))
		l.done <- err
	}()
	return l
}

func (e *dockerEngine) post(ctx context.Context, body io.Reader) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://docker/images/load?"+url.Values{"quiet": {"1"}}.Encode(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-tar")
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return loadResult(resp)
}

// loadResult reads the engine's answer: an error status with a {"message"} body, or a
// stream of JSON messages where a failure is one with "error" (the status is 200 by then).
func loadResult(resp *http.Response) error {
	r := io.LimitReader(resp.Body, maxLoadResponse)
	if resp.StatusCode != http.StatusOK {
		var m struct {
			Message string `json:"message"`
		}
		dt, _ := io.ReadAll(r)
		if json.Unmarshal(dt, &m) == nil && m.Message != "" {
			return fmt.Errorf("%s: %s", resp.Status, m.Message)
		}
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(dt)))
	}
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read the engine's answer: %w", err)
		}
		if m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}

// engineLoad is one archive on its way into an engine.
type engineLoad struct {
	pw     *io.PipeWriter
	cancel context.CancelFunc
	done   chan error
	host   string
	tags   []string

	once sync.Once
	err  error
}

// Write sends p; when the engine stopped reading, its answer is the error (BuildKit
// reports a failed write and drops Close's error).
func (l *engineLoad) Write(p []byte) (int, error) {
	n, err := l.pw.Write(p)
	if err != nil {
		if lerr := l.result(); lerr != nil {
			return n, lerr
		}
		return n, err
	}
	return n, nil
}

func (l *engineLoad) Close() error {
	l.pw.Close()
	return l.result()
}

// result waits for the engine's verdict, once.
func (l *engineLoad) result() error {
	l.once.Do(func() {
		defer l.cancel()
		t := time.NewTimer(dockerLoadTimeout)
		defer t.Stop()
		var err error
		select {
		case err = <-l.done:
		case <-t.C:
			err = fmt.Errorf("no answer in %s", dockerLoadTimeout)
		}
		if err != nil {
			l.err = fmt.Errorf("load %s into the Docker engine at %s: %w", strings.Join(l.tags, ", "), l.host, err)
		}
	})
	return l.err
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
