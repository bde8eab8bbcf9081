package initspec

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// found is one Dockerfile under the directory, as a component to write.
type found struct {
	Name string
	// Context is the Dockerfile's directory relative to the root ("." for the root).
	Context string
	// Dockerfile is its file name when not "Dockerfile", else "".
	Dockerfile string
}

// skipDirs are directories that hold other people's Dockerfiles, not the project's.
var skipDirs = map[string]bool{"node_modules": true, "vendor": true}

// isDockerfile says whether a file name is a Dockerfile: Dockerfile, Dockerfile.NAME,
// NAME.Dockerfile or Containerfile; NAME.dockerignore files are not.
func isDockerfile(name string) bool {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".dockerignore"):
		return false
	case lower == "dockerfile" || lower == "containerfile":
		return true
	case strings.HasPrefix(lower, "dockerfile.") || strings.HasSuffix(lower, ".dockerfile"):
		return true
	}
	return false
}

// discover walks root for Dockerfiles, skipping dot directories (.git among them),
// node_modules and vendor, and names a component for each, in path order.
func discover(root string) ([]found, error) {
	var out []found
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || skipDirs[d.Name()]) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !isDockerfile(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		f := found{Context: filepath.ToSlash(rel)}
		if d.Name() != "Dockerfile" {
			f.Dockerfile = d.Name()
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	nameComponents(out, filepath.Base(abs))
	return out, nil
}

// nameComponents names each component after its directory (the root's own name for the
// root), with the Dockerfile's own part added for a non-default name ("api-prod" for
// api/Dockerfile.prod). Names that collide take their whole path ("services-api"), then a
// number.
func nameComponents(fs []found, rootName string) {
	short := func(f found) string {
		dir := rootName
		if f.Context != "." {
			dir = filepath.Base(f.Context)
		}
		if v := variant(f.Dockerfile); v != "-"+dir { // worker/worker.Dockerfile is "worker"
			dir += v
		}
		return identifier(dir)
	}
	long := func(f found) string {
		dir := rootName
		if f.Context != "." {
			dir = strings.ReplaceAll(f.Context, "/", "-")
		}
		return identifier(dir + variant(f.Dockerfile))
	}
	count := map[string]int{}
	for _, f := range fs {
		count[short(f)]++
	}
	used := map[string]bool{}
	for i := range fs {
		name := short(fs[i])
		if count[name] > 1 {
			name = long(fs[i])
		}
		base := name
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		used[name] = true
		fs[i].Name = name
	}
}

// variant is "-prod" for Dockerfile.prod and prod.Dockerfile, "" for the default names.
func variant(dockerfile string) string {
	lower := strings.ToLower(dockerfile)
	switch {
	case dockerfile == "" || lower == "dockerfile" || lower == "containerfile":
		return ""
	case strings.HasPrefix(lower, "dockerfile."):
		return "-" + dockerfile[len("dockerfile."):]
	default:
		return "-" + dockerfile[:len(dockerfile)-len(".dockerfile")]
	}
}

// identifier makes s a component name usable as component.NAME: lower case letters,
// digits, - and _, starting with a letter.
func identifier(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" || out[0] < 'a' || out[0] > 'z' {
		out = "c-" + out
	}
	return strings.TrimRight(out, "-")
}

// components writes a component block per Dockerfile found.
func (g *generator) components(fs []found) {
	body := g.comps.Body()
	if len(fs) == 0 {
		comment(body, "No Dockerfile was found. Add a component per image:",
			`component "app" {`, `  context = "."`, `}`)
		g.note("components", "the directory", "no Dockerfile found")
		return
	}
	comment(body, "One component per Dockerfile found. Without tags a component builds into the builder's",
		`cache only; add tags = ["registry.example.com/NAME:TAG"] to push it.`)
	for i, f := range fs {
		if i > 0 {
			body.AppendNewline()
		}
		b := body.AppendNewBlock("component", []string{f.Name}).Body()
		ctx := "."
		if f.Context != "." {
			ctx = "./" + f.Context
		}
		b.SetAttributeValue("context", cty.StringVal(ctx))
		if f.Dockerfile != "" {
			b.SetAttributeValue("dockerfile", cty.StringVal(f.Dockerfile))
		}
		g.note(fmt.Sprintf("component %q", f.Name), filepath.ToSlash(filepath.Join(f.Context, dockerfileName(f))), "")
	}
}

func dockerfileName(f found) string {
	if f.Dockerfile == "" {
		return "Dockerfile"
	}
	return f.Dockerfile
}
