package registry

import (
	"fmt"
	"os"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/credentials"
)

// DockerCredentials reads credentials from the user's Docker config ($DOCKER_CONFIG, else
// ~/.docker: config.json and its credential helpers), as `docker login` stores them, for
// WithCredentials. docker.io's are stored under "https://index.docker.io/v1/". A config
// that cannot be read means anonymous access, as for the docker CLI.
func DockerCredentials() func(host string) (string, string, error) {
	// Read DOCKER_CONFIG here, not through config.Dir, which fixes it once per process.
	dir := os.Getenv(config.EnvOverrideConfigDir)
	if dir == "" {
		dir = config.Dir()
	}
	return dockerCredentials(dir)
}

func dockerCredentials(dir string) func(host string) (string, string, error) {
	cf, err := config.Load(dir)
	if err != nil || !cf.ContainsAuth() {
		cf.CredentialsStore = credentials.DetectDefaultStore(cf.CredentialsStore)
	}
	return func(host string) (string, string, error) {
		key := host
		if host == "registry-1.docker.io" || host == "docker.io" {
			key = "https://index.docker.io/v1/"
		}
		ac, err := cf.GetAuthConfig(key)
		if err != nil {
			return "", "", fmt.Errorf("credentials for %s from the Docker config: %w (hint: docker login %s)", host, redactedError{err}, host)
		}
		if ac.IdentityToken != "" {
			return "", ac.IdentityToken, nil
		}
		return ac.Username, ac.Password, nil
	}
}
