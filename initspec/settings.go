package initspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// daemonJSON is the part of Docker's /etc/docker/daemon.json archc can carry over.
type daemonJSON struct {
	RegistryMirrors    []string `json:"registry-mirrors"`
	InsecureRegistries []string `json:"insecure-registries"`
	Proxies            struct {
		HTTPProxy  string `json:"http-proxy"`
		HTTPSProxy string `json:"https-proxy"`
		NoProxy    string `json:"no-proxy"`
	} `json:"proxies"`
}

// configJSON is the part of the Docker CLI's config.json archc can carry over: the proxies
// it passes to builds (the "default" entry applies to every daemon).
type configJSON struct {
	Proxies map[string]struct {
		HTTPProxy  string `json:"httpProxy"`
		HTTPSProxy string `json:"httpsProxy"`
		AllProxy   string `json:"allProxy"`
		NoProxy    string `json:"noProxy"`
	} `json:"proxies"`
}

// proxySettings are proxy URLs found in one place, as written (credentials included).
type proxySettings struct {
	Source                    string
	HTTP, HTTPS, All, NoProxy string
}

func (p proxySettings) empty() bool { return p.HTTP == "" && p.HTTPS == "" && p.All == "" }

// settings is everything read from Docker's files and the environment.
type settings struct {
	daemonPath string
	mirrors    []string
	insecure   []string
	// proxies are the candidates in order of precedence: daemon.json, config.json, env.
	proxies []proxySettings
	notes   []Note
}

// readSettings reads daemon.json, config.json and the proxy environment. A file that does
// not exist is reported and skipped; one that exists and does not parse is an error.
func readSettings(opts Options) (settings, error) {
	var st settings
	var d daemonJSON
	ok, err := readJSON(opts.DaemonJSON, &d)
	if err != nil {
		return st, err
	}
	if ok {
		st.daemonPath = opts.DaemonJSON
		st.mirrors, st.insecure = d.RegistryMirrors, d.InsecureRegistries
		st.proxies = append(st.proxies, proxySettings{Source: opts.DaemonJSON + " proxies",
			HTTP: d.Proxies.HTTPProxy, HTTPS: d.Proxies.HTTPSProxy, NoProxy: d.Proxies.NoProxy})
	} else if opts.DaemonJSON != "" {
		st.notes = append(st.notes, Note{Subject: "daemon.json", Source: opts.DaemonJSON, Detail: "not found, skipped"})
	}
	var c configJSON
	ok, err = readJSON(opts.DockerConfig, &c)
	if err != nil {
		return st, err
	}
	if ok {
		p := c.Proxies["default"]
		st.proxies = append(st.proxies, proxySettings{Source: opts.DockerConfig + " proxies.default",
			HTTP: p.HTTPProxy, HTTPS: p.HTTPSProxy, All: p.AllProxy, NoProxy: p.NoProxy})
	} else if opts.DockerConfig != "" {
		st.notes = append(st.notes, Note{Subject: "config.json", Source: opts.DockerConfig, Detail: "not found, skipped"})
	}
	st.proxies = append(st.proxies, envProxy(opts.Environ))
	return st, nil
}

// readJSON decodes path into v; false when path is "" or does not exist.
func readJSON(path string, v any) (bool, error) {
	if path == "" {
		return false, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		// json's syntax errors quote no input, so no proxy password leaks through them.
		return false, fmt.Errorf("parse %s: %w", path, err)
	}
	return true, nil
}

// envProxy reads the proxy environment as Go's net/http does: the upper-case name first,
// then the lower-case one.
func envProxy(environ []string) proxySettings {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	get := func(name string) string {
		if v := env[name]; v != "" {
			return v
		}
		return env[strings.ToLower(name)]
	}
	return proxySettings{Source: "the environment", HTTP: get("HTTP_PROXY"), HTTPS: get("HTTPS_PROXY"),
		All: get("ALL_PROXY"), NoProxy: get("NO_PROXY")}
}

// EnvProxy finds a proxy in environ (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, upper or lower
// case) and returns the variable's name as set and the proxy block attribute that would
// declare it, its URL's credentials redacted; ok is false when none is set.
func EnvProxy(environ []string) (name, attr string, ok bool) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, found := strings.Cut(kv, "="); found && v != "" {
			env[k] = v
		}
	}
	for _, n := range []string{"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"} {
		for _, k := range []string{n, strings.ToLower(n)} {
			if v := env[k]; v != "" {
				return k, fmt.Sprintf("%s = %q", strings.ToLower(n), redact(withScheme(v))), true
			}
		}
	}
	return "", "", false
}
