package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoUpstream answers 200 with the request path.
func echoUpstream(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return s
}

var direct = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// fetch returns status and body, or the transport error.
func fetch(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := direct.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestFaultProxyStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fault  Fault
		path   string
		want   []int // statuses of consecutive requests
		header string
		value  string
	}{
		{name: "none", fault: Fault{}, path: "/v2/", want: []int{200, 200}},
		{name: "every 3rd 503", fault: FailEveryN(3, 503), path: "/v2/", want: []int{200, 200, 503, 200, 200, 503}},
		{name: "429 retry-after", fault: TooMany(2 * time.Second), path: "/v2/", want: []int{429}, header: "Retry-After", value: "2"},
		{name: "401 challenge", fault: Status(401, http.Header{"Www-Authenticate": {`Bearer realm="x"`}}), path: "/v2/",
			want: []int{401}, header: "WWW-Authenticate", value: `Bearer realm="x"`},
		{name: "404 first 2", fault: Status(404, nil).FirstK(2), path: "/v2/", want: []int{404, 404, 200}},
		{name: "path prefix miss", fault: Status(404, nil).OnPath("/v2/other/"), path: "/v2/lib/x", want: []int{200}},
		{name: "path prefix hit", fault: Status(404, nil).OnPath("/v2/lib/"), path: "/v2/lib/x", want: []int{404}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := StartFaultProxy(t, echoUpstream(t).URL)
			if tc.name != "none" {
				p.Set(tc.fault)
			}
			var got []int
			for range tc.want {
				resp, err := direct.Get(p.URL + tc.path)
				require.NoError(t, err)
				resp.Body.Close()
				got = append(got, resp.StatusCode)
				if tc.header != "" {
					assert.Equal(t, tc.value, resp.Header.Get(tc.header))
				}
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, len(tc.want), p.Count(""))
			reqs := p.Requests()
			for i, r := range reqs {
				assert.Equal(t, tc.want[i], r.Status, "log entry %d", i)
				assert.Equal(t, tc.path, r.Path)
			}
		})
	}
}

func TestFaultProxyForwardsBody(t *testing.T) {
	t.Parallel()
	p := StartFaultProxy(t, echoUpstream(t).URL)
	code, body, err := fetch(context.Background(), p.URL+"/v2/a/b")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, "/v2/a/b", body)
	assert.Equal(t, 1, p.Count("/v2/a/"))
	assert.Equal(t, 0, p.Count("/v2/c/"))
}

func TestFaultProxyBlackholeTimesOut(t *testing.T) {
	t.Parallel()
	p := StartFaultProxy(t, echoUpstream(t).URL)
	p.Set(Blackhole())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := fetch(ctx, p.URL+"/v2/")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	p.Clear()
	code, _, err := fetch(context.Background(), p.URL+"/v2/")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, []ProxyRequest{{Method: "GET", Path: "/v2/", Fault: "blackhole"}, {Method: "GET", Path: "/v2/", Status: 200}}, p.Requests())
}

func TestFaultProxyReset(t *testing.T) {
	t.Parallel()
	p := StartFaultProxy(t, echoUpstream(t).URL)
	p.Set(Reset())
	_, _, err := fetch(context.Background(), p.URL+"/v2/")
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "got %v", err)
}

func TestFaultProxySlowStillAnswers(t *testing.T) {
	t.Parallel()
	p := StartFaultProxy(t, echoUpstream(t).URL)
	p.Set(Slow(20 * time.Millisecond))
	code, body, err := fetch(context.Background(), p.URL+"/v2/x")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, "/v2/x", body)
	assert.Equal(t, "slow 20ms", p.Requests()[0].Fault)
}

func TestFaultProxyInFrontOfRegistry(t *testing.T) {
	t.Parallel()
	reg := StartRegistry(t)
	p := StartFaultProxy(t, reg.URL)
	// Pushing through the proxy proves Location headers stay on the proxy.
	c, err := TinyContent("via-proxy")
	require.NoError(t, err)
	img, err := c.Push(context.Background(), p.URL, "tiny/proxied", "v1")
	require.NoError(t, err)
	body, _ := get(t, reg.URL+"/v2/tiny/proxied/manifests/v1", "application/vnd.oci.image.index.v1+json")
	assert.Equal(t, img.Index.Encoded(), sha256hex(body))
	assert.Positive(t, p.Count("/v2/tiny/proxied/blobs/uploads/"))
}

// statuses sends n sequential GETs to path and returns the statuses.
func statuses(t *testing.T, p *FaultProxy, path string, n int) []int {
	t.Helper()
	got := make([]int, 0, n)
	for range n {
		resp, err := direct.Get(p.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	return got
}

func TestFaultProxyRandomRate(t *testing.T) {
	t.Parallel()
	const n = 400
	tests := []struct {
		name   string
		rate   float64
		lo, hi int // faulted requests out of n; ±5 standard deviations around rate*n
	}{
		{name: "never", rate: 0, lo: 0, hi: 0},
		{name: "15%", rate: 0.15, lo: 24, hi: 96},
		{name: "20%", rate: 0.20, lo: 40, hi: 120},
		{name: "always", rate: 1, lo: n, hi: n},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := StartFaultProxy(t, echoUpstream(t).URL)
			p.Set(Random(7, tc.rate, Status(503, nil)))
			faulted := 0
			for _, code := range statuses(t, p, "/v2/x", n) {
				if code == 503 {
					faulted++
				} else {
					assert.Equal(t, 200, code)
				}
			}
			assert.GreaterOrEqual(t, faulted, tc.lo)
			assert.LessOrEqual(t, faulted, tc.hi)
			st := p.Stats()
			assert.Equal(t, n, st.Requests)
			assert.Equal(t, faulted, st.Faulted)
		})
	}
}

func TestFaultProxyRandomSameSeedSameDecisions(t *testing.T) {
	t.Parallel()
	run := func(seed int64) []int {
		p := StartFaultProxy(t, echoUpstream(t).URL)
		p.Set(Random(seed, 0.3, TooMany(time.Second)))
		return statuses(t, p, "/v2/y", 60)
	}
	a, b, c := run(42), run(42), run(43)
	assert.Equal(t, a, b, "same seed, same request order: same faults")
	assert.NotEqual(t, a, c, "another seed: other faults")
	assert.Contains(t, a, 429)
	assert.Contains(t, a, 200)

	// Set restarts the source: the same proxy repeats the sequence.
	p := StartFaultProxy(t, echoUpstream(t).URL)
	f := Random(42, 0.3, TooMany(time.Second))
	p.Set(f)
	first := statuses(t, p, "/v2/y", 60)
	p.Set(f)
	assert.Equal(t, first, statuses(t, p, "/v2/y", 60))
	assert.Equal(t, a, first)
	assert.Equal(t, "429 at 30% (seed 42)", f.String())
}

func TestFaultProxyRandomResetIsRetriable(t *testing.T) {
	t.Parallel()
	p := StartFaultProxy(t, echoUpstream(t).URL)
	p.Set(Random(1, 0.5, Reset()))
	// A client that retries each request until it is answered, as archc must.
	for i := range 20 {
		path := fmt.Sprintf("/v2/blob/%d", i)
		for attempt := 0; ; attempt++ {
			require.Less(t, attempt, 50, "path %s never answered", path)
			code, _, err := fetch(context.Background(), p.URL+path)
			if err == nil {
				assert.Equal(t, 200, code)
				break
			}
		}
	}
	s := p.Stats()
	assert.Positive(t, s.Faulted)
	assert.Equal(t, s.Faulted, s.Retried, "every reset path was answered later")
	assert.Equal(t, 20+s.Faulted, s.Requests)
}
