package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// FormatSource returns src in HCL's canonical layout (hclwrite.Format, as terraform fmt),
// or the reasons it cannot: a file archc would refuse to read (CheckSource) or one that
// does not parse. Formatting an invalid file would move its errors around, so it is left
// alone. Only native syntax: JSON specs are generated and kept as their generator writes.
func FormatSource(filename string, src []byte) ([]byte, hcl.Diagnostics) {
	if diags := CheckSource(filename, src); diags.HasErrors() {
		return nil, diags
	}
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}
