package registry

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
)

// DockerConfig loads the user's Docker config ($DOCKER_CONFIG, else ~/.docker), with its
// credential helpers, as `docker login` writes it: the one place both archc's registry
// client and the build session's auth provider read it. DOCKER_CONFIG is read on each
// call, not through config.Dir, which fixes it once per process. A config that cannot be
// read means anonymous access, as for the docker CLI.
func DockerConfig() *configfile.ConfigFile {
	return dockerConfig(dockerConfigDir())
}

// DockerConfigPath is the path of the Docker config DockerConfig reads: config.json in
// $DOCKER_CONFIG, else in ~/.docker.
func DockerConfigPath() string {
	return filepath.Join(dockerConfigDir(), config.ConfigFileName)
}

func dockerConfigDir() string {
	if dir := os.Getenv(config.EnvOverrideConfigDir); dir != "" {
		return dir
	}
	return config.Dir()
}

// LoadDockerConfig reads the Docker config file at path as the Docker CLI parses it, for a
// config named by the user rather than found. Unlike DockerConfig, a file that cannot be
// read (fs.ErrNotExist when it does not exist) or parsed is an error; the errors quote no
// part of the file, so no credential leaks through them.
func LoadDockerConfig(path string) (*configfile.ConfigFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	cf := configfile.New(path)
	if err := cf.LoadFromReader(f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return cf, nil
}

func dockerConfig(dir string) *configfile.ConfigFile {
	cf, err := config.Load(dir)
	if err != nil || !cf.ContainsAuth() {
		cf.CredentialsStore = credentials.DetectDefaultStore(cf.CredentialsStore)
	}
	return cf
}

// DockerCredentials answers credentials from DockerConfig for WithCredentials. docker.io's
// are stored under "https://index.docker.io/v1/".
func DockerCredentials() func(host string) (string, string, error) {
	return credentialsFrom(DockerConfig())
}

func dockerCredentials(dir string) func(host string) (string, string, error) {
	return credentialsFrom(dockerConfig(dir))
}

func credentialsFrom(cf *configfile.ConfigFile) func(host string) (string, string, error) {
	return func(host string) (string, string, error) {
		key := host
		if host == "registry-1.docker.io" || host == "docker.io" {
			key = "https://index.docker.io/v1/"
		}
		ac, err := cf.GetAuthConfig(key)
		if err != nil {
			return "", "", &hintError{fmt.Errorf("credentials for %s from the Docker config: %w", host, redactedError{err}), "docker login " + host}
		}
		if ac.IdentityToken != "" {
			return "", ac.IdentityToken, nil
		}
		return ac.Username, ac.Password, nil
	}
}
