package registry

import (
	"io"

	"github.com/docker/cli/cli/config"
)

// DockerCredentials reads credentials from the user's Docker config (~/.docker/config.json
// and its credential helpers), as `docker login` stores them, for WithCredentials.
// docker.io's are stored under "https://index.docker.io/v1/".
func DockerCredentials() func(host string) (string, string, error) {
	cf := config.LoadDefaultConfigFile(io.Discard)
	return func(host string) (string, string, error) {
		key := host
		if host == "registry-1.docker.io" || host == "docker.io" {
			key = "https://index.docker.io/v1/"
		}
		ac, err := cf.GetAuthConfig(key)
		if err != nil {
			return "", "", err
		}
		if ac.IdentityToken != "" {
			return "", ac.IdentityToken, nil
		}
		return ac.Username, ac.Password, nil
	}
}
