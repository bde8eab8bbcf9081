package spec

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testdata = "../testdata/spec"

func diagStrings(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, diagString(d))
	}
	return out
}

// TestLoadErrors runs every bad input and checks each error's summary and exact position.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		want   []string
		detail string // a substring of the first diagnostic's detail, when it matters
	}{
		{"bad_builder_address.hcl", []string{"2:13: error: Invalid builder address"}, "scheme://"},
		{"bad_image_context.hcl", []string{"3:23: error: Invalid image reference"}, ""},
		{"bad_mirror_credentials.hcl", []string{"2:14: error: Invalid mirror URL"}, "://xxxxx@"},
		{"bad_mirror_nohost.hcl", []string{"2:14: error: Invalid mirror URL"}, "no host"},
		{"bad_mirror_query.hcl", []string{"2:14: error: Invalid mirror URL"}, "no query or fragment"},
		{"bad_mirror_scheme.hcl", []string{"2:36: error: Invalid mirror URL"}, "http or https"},
		{"bad_name.hcl", []string{"1:11: error: Invalid component name"}, ""},
		{"bad_output.hcl", []string{"3:13: error: Invalid output"}, "registry, oci, local, docker, cache-only"},
		{"bad_platform.hcl", []string{"1:29: error: Invalid platform"}, "linux/sparc99"},
		{"bad_platform_no_os.hcl", []string{"3:16: error: Invalid platform"}, "arm64"},
		{"bad_proxy_url.hcl", []string{"3:17: error: Invalid proxy URL"}, "https_proxy"},
		{"bad_registry_chars.hcl", []string{"1:10: error: Invalid registry host"}, "host[:port]"},
		{"bad_registry_port.hcl", []string{"1:10: error: Invalid registry host"}, "65535"},
		{"bad_registry_scheme.hcl", []string{"1:10: error: Invalid registry host"}, "no scheme"},
		{"registry_uppercase.hcl", []string{"1:10: error: Invalid registry host"}, `write "docker.io"`},
		{"registry_hub_alias.hcl", []string{"2:10: error: Invalid registry host"}, `write registry "docker.io"`},
		{"bad_tag.hcl", []string{"3:32: error: Invalid tag"}, "UPPER"},
		{"builder_missing_cert.hcl", []string{"3:13: error: cert file not found"}, "client.pem"},
		{"bad_max_parallel.hcl", []string{"2:18: error: Invalid max_parallel"}, "at least 1"},
		{"bad_max_parallel_fraction.hcl", []string{"2:18: error: Unsuitable value type"}, "whole number"},
		{"builder_pin_undefined.hcl", []string{"4:13: error: Undefined builder"}, `Did you mean "amd-1"?`},
		{"builder_pin_platform.hcl", []string{"5:15: error: Builder cannot run the platform"}, "linux/amd64 is not among them"},
		{"cache_bad_mode.hcl", []string{"1:13: error: Invalid cache entry"}, `cache_to[0]: mode "all" is not min or max`},
		{"cache_bad_ref.hcl", []string{"3:17: error: Invalid cache entry"}, "must be lowercase"},
		{"cache_local_wrong_key.hcl", []string{"3:17: error: Invalid cache entry"}, "dest is for cache_to"},
		{"cache_no_type.hcl", []string{"2:3: error: Invalid cache entry"}, "type is missing"},
		{"cache_unknown_type.hcl", []string{"3:50: error: Invalid cache entry"}, `cache_to[1]: type "gha" is not one of registry, local, inline`},
		{"component_ref_elsewhere.hcl", []string{"3:13: error: Component reference not allowed here"}, ""},
		{"context_is_file.hcl", []string{"2:13: error: Build context is not a directory"}, ""},
		{"cycle.hcl", []string{"1:1: error: Dependency cycle"}, "a -> b -> c -> a"},
		{"duplicate_component.hcl", []string{`5:1: error: Duplicate component "a"`}, "duplicate_component.hcl:1,1"},
		{"duplicate_local.hcl", []string{`3:3: error: Duplicate local "x"`}, ""},
		{"duplicate_proxy.hcl", []string{"2:1: error: Duplicate proxy"}, ""},
		{"duplicate_variable.hcl", []string{`2:1: error: Duplicate variable "X"`}, ""},
		{"empty_platforms.hcl", []string{"1:13: error: Empty platform list"}, ""},
		{"function_error.hcl", []string{"3:22: error: Too many function arguments"}, ""},
		{"locals_cycle.hcl", []string{"2:3: error: Cycle in locals"}, "local.a -> local.b -> local.a"},
		{"many_errors.hcl", []string{
			"1:29: error: Invalid platform",
			"4:14: error: Invalid mirror URL",
			"8:13: error: Build context not found",
			"9:14: error: Invalid tag",
			"10:3: error: Unsupported argument",
		}, ""},
		{"not_text.hcl", []string{"2:25: error: Not a text file"}, "not_text.hcl: not a text file (binary data at byte 40: a NUL byte)"},
		{"invalid_utf8.hcl", []string{"2:21: error: Not a text file"}, "byte 0xff is not UTF-8"},
		{"nesting_deep.hcl", []string{"2:1006: error: Nesting too deep"}, "More than 1000 levels"},
		{"nesting_operators.hcl", []string{"2:1006: error: Nesting too deep"}, ""},
		{"nesting_templates.hcl", []string{"2:3004: error: Nesting too deep"}, ""},
		{"nesting_directives.hcl", []string{"3:12975: error: Nesting too deep"}, ""},
		{"nesting_json.hcl", []string{"2:19: error: Invalid function argument"}, "JSON nested more than 1000 levels deep"},
		{"escape_tag.hcl", []string{"3:14: error: Invalid tag"}, ""},
		{"locals_dynamic.hcl", []string{"4:7: error: Invalid reference to locals"}, "local.NAME"},
		{"locals_behind_cycle.hcl", []string{"3:3: error: Cycle in locals"}, "local.b -> local.c -> local.b"},
		{"mirrors_only_empty.hcl", []string{"2:18: error: No mirrors"}, ""},
		{"missing_ca.hcl", []string{"2:8: error: CA file not found"}, "missing.pem"},
		{"missing_context.hcl", []string{"2:13: error: Build context not found"}, "spec file's directory"},
		{"missing_default_dockerfile.hcl", []string{"2:13: error: Dockerfile not found"}, "certs/Dockerfile"},
		{"missing_dockerfile.hcl", []string{"3:16: error: Dockerfile not found"}, "Dockerfile.missing"},
		{"missing_named_context.hcl", []string{"3:24: error: Named context not found"}, ""},
		{"oci_no_path.hcl", []string{"3:13: error: Missing output_path"}, ""},
		{"registry_output_no_tags.hcl", []string{"3:13: error: Registry output without tags"}, ""},
		{"self_cycle.hcl", []string{"3:17: error: Dependency cycle"}, "a -> a"},
		{"syntax.hcl", []string{"4:1: error: Invalid expression"}, ""},
		{"undefined_component.hcl", []string{"3:17: error: Undefined component"}, `"nope"`},
		{"undefined_component_ctx.hcl", []string{"3:23: error: Undefined component"}, "Did you mean component.base?"},
		{"undefined_depends_name.hcl", []string{"3:17: error: Undefined component"}, `"ghost"`},
		{"undefined_local.hcl", []string{"4:13: error: Undefined local"}, "Did you mean local.x?"},
		{"undefined_var.hcl", []string{"4:29: error: Undefined variable"}, "Did you mean var.TAG?"},
		{"unknown_attr.hcl", []string{"3:3: error: Unsupported argument"}, `Did you mean "dockerfile"?`},
		{"unknown_block.hcl", []string{"1:1: error: Unsupported block type"}, ""},
		{"unknown_top_attr.hcl", []string{"1:1: error: Unsupported argument"}, `Did you mean "platforms"?`},
		{"variable_bad_default.hcl", []string{"3:13: error: Invalid default value for variable"}, "number"},
		{"variable_bad_type.hcl", []string{"2:13: error: Invalid type specification"}, ""},
		{"variable_no_value.hcl", []string{`1:1: error: No value for variable "TAG"`}, "ARCHC_VAR_TAG"},
		{"variable_validation.hcl", []string{"4:21: error: Invalid value for variable"}, "Pin a real version."},
		{"wrong_type.hcl", []string{"3:14: error: Unsuitable value type"}, ""},
		// Issue 13: secrets, ssh, entitlements, network settings, per-platform args.
		{"secret_no_source.hcl", []string{"1:1: error: Secret without a source"}, `env = "NAME"`},
		{"secret_two_sources.hcl", []string{"3:3: error: Two secret sources"}, "both env and file"},
		{"secret_env_dollar.hcl", []string{"2:9: error: Invalid environment variable name"}, `without $: env = "NPM_TOKEN"`},
		{"secret_unknown_attr.hcl", []string{"3:3: error: Unsupported argument"}, `"value"`},
		{"secret_undefined.hcl", []string{"4:27: error: Undefined secret"}, `Did you mean "npm_token"?`},
		{"ssh_undefined.hcl", []string{"4:14: error: Undefined ssh"}, `Did you mean "default"?`},
		{"ssh_empty_path.hcl", []string{"2:31: error: Empty ssh path"}, ""},
		{"allow_unknown.hcl", []string{"3:14: error: Invalid entitlement"}, `Did you mean "network.host"?`},
		{"network_host_not_allowed.hcl", []string{"3:13: error: Entitlement not allowed"}, `network = "host" needs the network.host entitlement; add allow = ["network.host"]`},
		{"network_bad.hcl", []string{"3:13: error: Invalid network"}, "not one of default, none, host"},
		{"extra_hosts_bad_ip.hcl", []string{"3:36: error: Invalid extra_hosts entry"}, `"10.0.0.300" is not an IP address`},
		{"extra_hosts_gateway.hcl", []string{"5:30: error: Invalid extra_hosts entry"}, "host-gateway is a Docker engine value"},
		{"shm_size_bad.hcl", []string{"3:14: error: Invalid shm_size"}, `"128q"`},
		{"ulimits_bad.hcl", []string{"3:26: error: Invalid ulimit"}, "2048 > 1024"},
		{"ulimits_duplicate.hcl", []string{"3:34: error: Duplicate ulimit"}, "nofile"},
		{"no_cache_filter_empty.hcl", []string{"3:31: error: Empty stage name"}, ""},
		{"docker_no_tags.hcl", []string{"3:13: error: Docker output without tags"}, `output = "docker" names the loaded image by its tags`},
		{"platform_in_tags.hcl", []string{"3:29: error: Platform reference not allowed here"}, "only be used in a component's args"},
		{"platform_in_local.hcl", []string{"2:10: error: Platform reference not allowed here"}, ""},
		{"platform_bad_attr.hcl", []string{"3:43: error: Unsupported platform attribute"}, "os, arch and variant"},
		{"args_bad_value.hcl", []string{"3:32: error: Unsuitable value type"}, "args.LIST must be a string, number or bool, or null"},
		{"args_platform_lookup.hcl", []string{"4:46: error: Invalid index"}, "(args for target platform linux/arm64, linux/s390x)"},
		{"build_platforms_bad.hcl", []string{"1:35: error: Invalid platform"}, `"arm64" names no OS`},
	}
	files, err := filepath.Glob(filepath.Join(testdata, "bad", "*.hcl"))
	require.NoError(t, err)
	require.Len(t, files, len(tests), "every file in testdata/spec/bad needs a case")
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".hcl"), func(t *testing.T) {
			t.Parallel()
			s, diags := Load(LoadOptions{Files: []string{filepath.Join(testdata, "bad", tt.file)}})
			assert.Nil(t, s)
			require.True(t, diags.HasErrors())
			var want []string
			for _, w := range tt.want {
				want = append(want, tt.file+":"+w)
			}
			assert.Equal(t, want, diagStrings(diags))
			if tt.detail != "" {
				assert.Contains(t, diags[0].Detail, tt.detail)
			}
		})
	}
}

// TestPasswordsNotInErrors: a bad proxy URL is named by attribute, a bad mirror URL is redacted.
func TestPasswordsNotInErrors(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"bad_proxy_url.hcl", "bad_mirror_credentials.hcl"} {
		_, diags := Load(LoadOptions{Files: []string{filepath.Join(testdata, "bad", f)}})
		require.True(t, diags.HasErrors())
		for _, d := range diags {
			assert.NotContains(t, d.Detail, "s3cret", f)
			assert.NotContains(t, d.Summary, "s3cret", f)
		}
	}
}

func TestLoadNoFiles(t *testing.T) {
	t.Parallel()
	_, diags := Load(LoadOptions{})
	assert.Equal(t, []string{"error: No spec file"}, diagStrings(diags))
	_, diags = Load(LoadOptions{Files: []string{filepath.Join(testdata, "does-not-exist.hcl")}})
	assert.Equal(t, []string{"error: Cannot read spec file"}, diagStrings(diags))
}
