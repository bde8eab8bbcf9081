package spec

import (
	"bytes"
	"strings"
)

// The nesting scanner reads HCL native syntax just well enough to measure how deep
// hclsyntax would recurse: it knows strings, heredocs, templates and comments (so a `[`
// inside a string does not count) and nothing else. It keeps its own stack, so it never
// recurses, and reads each byte once.

// Kinds of scanner frames.
const (
	frameRoot    = iota // the file's body: a newline ends an expression
	frameBrace          // { }: a block body or an object; a newline ends an item
	frameGroup          // [ ] and ( ): newlines are insignificant
	frameInterp         // ${ } and %{ }: an expression inside a template
	frameQuote          // "...": a template on one line
	frameHeredoc        // <<EOF ... EOF: a template up to its marker line
)

// frame is one open construct. ops is the depth this frame adds for the expression being
// read in it: hclsyntax recurses for each operator (a unary chain, a conditional, a
// left-nested chain of binary operators is evaluated recursively) and each nested opener,
// until a separator (a comma, or a newline where newlines end an expression) starts the
// next expression.
type frame struct {
	kind      int
	ops       int
	marker    []byte // frameHeredoc: the closing marker
	lineStart bool   // frameHeredoc: the next byte starts a line
}

type depthScanner struct {
	src   []byte
	stack []frame
	depth int  // the sum of ops over the stack
	word  byte // expression mode: 'i' inside an identifier (where '-' is a letter), 'n' a number
}

// tooDeep returns the offset at which src nests deeper than limit, or -1.
func tooDeep(src []byte, limit int) int {
	s := &depthScanner{src: src, stack: []frame{{kind: frameRoot}}}
	for i := 0; i < len(src); {
		var next int
		switch s.top().kind {
		case frameQuote:
			next = s.quote(i)
		case frameHeredoc:
			next = s.heredoc(i)
		default:
			next = s.expr(i)
		}
		if s.depth > limit {
			return i
		}
		i = next
	}
	return -1
}

func (s *depthScanner) top() *frame { return &s.stack[len(s.stack)-1] }

// at returns src[i], or 0 past the end.
func (s *depthScanner) at(i int) byte {
	if i < len(s.src) {
		return s.src[i]
	}
	return 0
}

func (s *depthScanner) bump(n int) {
	t := s.top()
	n = max(n, -t.ops)
	t.ops += n
	s.depth += n
}

func (s *depthScanner) push(f frame) { s.stack = append(s.stack, f) }

func (s *depthScanner) pop() {
	if len(s.stack) > 1 {
		s.depth -= s.top().ops
		s.stack = s.stack[:len(s.stack)-1]
	}
	s.word = 0
}

// expr reads one token at i in expression mode and returns where the next one starts.
func (s *depthScanner) expr(i int) int {
	c, next := s.src[i], s.at(i+1)
	word := s.word
	s.word = 0
	switch {
	case c == '#' || c == '/' && next == '/':
		if end := bytes.IndexByte(s.src[i:], '\n'); end >= 0 {
			return i + end // the newline is read in its own right
		}
		return len(s.src)
	case c == '/' && next == '*':
		if end := bytes.Index(s.src[i+2:], []byte("*/")); end >= 0 {
			return i + 2 + end + 2
		}
		return len(s.src)
	case c == '\n':
		if k := s.top().kind; k == frameRoot || k == frameBrace {
			s.bump(-s.top().ops)
		}
	case c == ',':
		s.bump(-s.top().ops)
	case c == '"':
		s.bump(1)
		s.push(frame{kind: frameQuote})
	case c == '{':
		s.bump(1)
		s.push(frame{kind: frameBrace})
	case c == '[' || c == '(':
		s.bump(1)
		s.push(frame{kind: frameGroup})
	case c == '}' || c == ']' || c == ')':
		if s.top().kind != frameRoot {
			s.pop()
		}
	case c == '<' && next == '<':
		return s.heredocOpen(i)
	case (c == '&' && next == '&') || (c == '|' && next == '|') || (c == '=' && next == '='),
		(c == '!' || c == '<' || c == '>') && next == '=':
		s.bump(1)
		return i + 2
	case c == '=' && next == '>':
		return i + 2
	case c == '-' && word == 'i':
		s.word = 'i' // identifiers may contain dashes
	case strings.IndexByte("+-*/%?!<>", c) >= 0:
		s.bump(1)
	case isIdentByte(c, false):
		s.word = word // a letter or digit continues an identifier or a number (1e5)
		if word == 0 {
			s.word = 'n'
			if isIdentByte(c, true) {
				s.word = 'i'
			}
		}
	}
	return i + 1
}

// heredocOpen reads `<<MARKER` or `<<-MARKER` and its newline at i; anything else is `<<`,
// which is not HCL, counted as an operator.
func (s *depthScanner) heredocOpen(i int) int {
	j := i + 2
	if s.at(j) == '-' {
		j++
	}
	start := j
	for j < len(s.src) && isIdentByte(s.src[j], j == start) {
		j++
	}
	marker := s.src[start:j]
	if s.at(j) == '\r' {
		j++
	}
	if len(marker) == 0 || s.at(j) != '\n' {
		s.bump(1)
		return i + 2
	}
	s.bump(1)
	s.push(frame{kind: frameHeredoc, marker: marker, lineStart: true})
	return j + 1
}

func isIdentByte(c byte, first bool) bool {
	letter := c == '_' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z')
	return letter || !first && (c == '-' || c >= '0' && c <= '9')
}

// quote reads one byte (or escape, or template opener) of a quoted template at i.
func (s *depthScanner) quote(i int) int {
	switch s.src[i] {
	case '\\':
		return i + 2
	case '"':
		s.pop()
		return i + 1
	case '\n': // unterminated: hclsyntax reports it; the newline belongs to the expression
		s.pop()
		return i
	case '$', '%':
		return s.template(i)
	}
	return i + 1
}

// heredoc reads one byte (or template opener, or the closing marker line) of a heredoc.
func (s *depthScanner) heredoc(i int) int {
	t := s.top()
	if t.lineStart {
		t.lineStart = false
		j := i
		for j < len(s.src) && (s.src[j] == ' ' || s.src[j] == '\t') {
			j++
		}
		if bytes.HasPrefix(s.src[j:], t.marker) {
			k := j + len(t.marker)
			for k < len(s.src) && (s.src[k] == ' ' || s.src[k] == '\t' || s.src[k] == '\r') {
				k++
			}
			if k == len(s.src) || s.src[k] == '\n' {
				s.pop()
				return k
			}
		}
	}
	switch s.src[i] {
	case '\n':
		t.lineStart = true
	case '$', '%':
		return s.template(i)
	}
	return i + 1
}

// template reads `${`, `%{` or their escapes `$${`, `%%{` at i inside a template. An
// interpolation is flat; an `if` or `for` directive nests until its `endif` or `endfor`.
func (s *depthScanner) template(i int) int {
	c := s.src[i]
	if s.at(i+1) == c && s.at(i+2) == '{' {
		return i + 3
	}
	if s.at(i+1) != '{' {
		return i + 1
	}
	if c == '%' {
		j := i + 2
		for j < len(s.src) && (s.src[j] == '~' || s.src[j] == ' ' || s.src[j] == '\t') {
			j++
		}
		end := j
		for end < len(s.src) && isIdentByte(s.src[end], end == j) {
			end++
		}
		switch string(s.src[j:end]) {
		case "if", "for":
			s.bump(1)
		case "endif", "endfor":
			s.bump(-1)
		}
	}
	s.push(frame{kind: frameInterp})
	return i + 2
}
