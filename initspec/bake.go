package initspec

func (g *generator) bake(path, dir string) error { return nil }
