package solver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	authutil "github.com/containerd/containerd/v2/core/remotes/docker/auth"
	remoteserrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/moby/buildkit/session/auth"
	"github.com/moby/buildkit/session/auth/authprovider"
	"google.golang.org/grpc"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// NewAuth returns the registry auth session: credentials from the user's Docker config
// and credential helpers, answered inside archc's process (never written into LLB or
// logs). Registry tokens are fetched by archc too, so FetchToken goes through the spec's
// proxy (honouring no_proxy) and the retry policy, and relaxes TLS only for realm hosts
// the spec marks insecure or gives a CA (registry.NewHostsTransport), instead of the
// environment-only HTTP client buildkit's provider uses.
func NewAuth(s *spec.Spec, stderr io.Writer) (*Auth, error) {
	if stderr == nil {
		stderr = io.Discard
	}
	provider := authprovider.LoadAuthConfig(registry.DockerConfig())
	inner, ok := authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: provider,
	}).(auth.AuthServer)
	if !ok {
		return nil, fmt.Errorf("buildkit's auth provider does not implement the auth service")
	}
	tr, err := registry.NewHostsTransport(s)
	if err != nil {
		return nil, err
	}
	return &Auth{AuthServer: inner, provider: provider, client: &http.Client{Transport: tr, Timeout: 60 * time.Second}}, nil
}

// Auth is the registry auth session: buildkit's auth provider with FetchToken done by
// archc's own client.
type Auth struct {
	auth.AuthServer
	provider authprovider.AuthConfigProvider
	client   *http.Client
}

// Register implements session.Attachable.
func (a *Auth) Register(server *grpc.Server) { auth.RegisterAuthServer(server, a) }

// HostCredentials returns the Docker config's credentials for host (for archc's own
// pushes); empty when there are none.
func (a *Auth) HostCredentials(host string) (string, string, error) {
	ac, err := a.provider(context.Background(), host, nil, nil)
	if err != nil {
		return "", "", err
	}
	if ac.IdentityToken != "" {
		return "", ac.IdentityToken, nil
	}
	return ac.Username, ac.Password, nil
}

// FetchToken mirrors buildkit's authProvider.FetchToken (OAuth POST with credentials,
// falling back to GET; anonymous GET otherwise) over the spec's proxy.
func (a *Auth) FetchToken(ctx context.Context, req *auth.FetchTokenRequest) (*auth.FetchTokenResponse, error) {
	ac, err := a.provider(ctx, req.Host, req.Scopes, nil)
	if err != nil {
		return nil, fmt.Errorf("load credentials for %s: %w", req.Host, err)
	}
	if ac.RegistryToken != "" {
		return tokenResponse(ac.RegistryToken, time.Time{}, 0), nil
	}
	to := authutil.TokenOptions{Realm: req.Realm, Service: req.Service, Scopes: req.Scopes, Username: ac.Username, Secret: ac.Password}
	if ac.IdentityToken != "" {
		to.Username, to.Secret = "", ac.IdentityToken
	}
	realm := realmHost(req.Realm)
	if to.Secret != "" {
		resp, err := authutil.FetchTokenWithOAuth(ctx, a.client, nil, "archc", to)
		if err == nil {
			return tokenResponse(resp.AccessToken, resp.IssuedAt, resp.ExpiresInSeconds), nil
		}
		var st remoteserrors.ErrUnexpectedStatus
		if !asStatus(err, &st) || (st.StatusCode != http.StatusMethodNotAllowed && st.StatusCode != http.StatusNotFound && st.StatusCode != http.StatusUnauthorized) {
			return nil, fmt.Errorf("fetch oauth token for %s from %s (through the spec's proxy when set): %w", req.Host, realm, err)
		}
	}
	resp, err := authutil.FetchToken(ctx, a.client, nil, to)
	if err != nil {
		return nil, fmt.Errorf("fetch token for %s from %s (through the spec's proxy when set; check proxy.no_proxy and the proxy's reachability): %w", req.Host, realm, err)
	}
	return tokenResponse(resp.Token, resp.IssuedAt, resp.ExpiresInSeconds), nil
}

func asStatus(err error, st *remoteserrors.ErrUnexpectedStatus) bool { return errors.As(err, st) }

func realmHost(realm string) string {
	if u, err := url.Parse(realm); err == nil && u.Host != "" {
		return u.Host
	}
	return "the token realm"
}

func tokenResponse(token string, issuedAt time.Time, expires int) *auth.FetchTokenResponse {
	if expires == 0 {
		expires = 60
	}
	r := &auth.FetchTokenResponse{Token: token, ExpiresIn: int64(expires)}
	if !issuedAt.IsZero() {
		r.IssuedAt = issuedAt.Unix()
	}
	return r
}
