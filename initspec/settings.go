package initspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/archc-dev/archc/registry"
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
	if opts.DockerConfig != "" {
		// The Docker CLI passes the proxies of its config to builds; the "default" entry
		// applies to every daemon.
		cf, err := registry.LoadDockerConfig(opts.DockerConfig)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st.notes = append(st.notes, Note{Subject: "config.json", Source: opts.DockerConfig, Detail: "not found, skipped"})
		case err != nil:
			return st, err
		default:
			p := cf.Proxies["default"]
			st.proxies = append(st.proxies, proxySettings{Source: opts.DockerConfig + " proxies.default",
				HTTP: p.HTTPProxy, HTTPS: p.HTTPSProxy, All: p.AllProxy, NoProxy: p.NoProxy})
		}
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

// envProxy is the proxy environment's settings (see proxyEnv).
func envProxy(environ []string) proxySettings {
	get := proxyEnv(environ)
	val := func(name string) string { _, v := get(name); return v }
	return proxySettings{Source: "the environment", HTTP: val("HTTP_PROXY"), HTTPS: val("HTTPS_PROXY"),
		All: val("ALL_PROXY"), NoProxy: val("NO_PROXY")}
}

// EnvProxy finds a proxy in environ (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, upper or lower
// case) and returns the variable's name as set and the proxy block attribute that would
// declare it, its URL's credentials redacted; ok is false when none is set.
func EnvProxy(environ []string) (name, attr string, ok bool) {
	get := proxyEnv(environ)
	for _, n := range []string{"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"} {
		if k, v := get(n); v != "" {
			return k, fmt.Sprintf("%s = %q", strings.ToLower(n), redact(withScheme(v))), true
		}
	}
	return "", "", false
}

// proxyEnv looks proxy variables up in environ as Go's net/http does: the upper-case name
// first, then the lower-case one. get returns the name of the variable used and its value,
// or "" and "" when neither is set (or both are empty).
func proxyEnv(environ []string) (get func(name string) (key, value string)) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			env[k] = v
		}
	}
	return func(name string) (string, string) {
		for _, k := range []string{name, strings.ToLower(name)} {
			if v := env[k]; v != "" {
				return k, v
			}
		}
		return "", ""
	}
}
