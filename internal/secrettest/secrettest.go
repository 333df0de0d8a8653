// Package secrettest holds a corpus of fake secrets, in the shapes real
// services leak, and of near-misses that redaction must leave alone, for
// tests in every otelkit package and in e2e. Nothing outside tests imports
// it.
package secrettest

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// Secret is one fake secret of the corpus.
type Secret struct {
	Shape string // what kind of secret: "github_pat", "dsn_mysql", …
	Value string // the secret itself: no part of a redacted output may hold it
	Text  string // Value in the text a service writes it in (Value itself if the corpus gives none)
	Alone bool   // Value is caught on its own, in any text and under any key
	InURL bool   // Value may stand as it is in a URL's query (with Alone: is caught there)
}

// NearMiss is a text that looks a little like a secret and must come out
// of redaction unchanged.
type NearMiss struct {
	Name string
	Text string
	URL  bool // Text is a URL, to be passed through URL redaction too
}

var (
	//go:embed testdata/secrets.txt
	secretsTxt string
	//go:embed testdata/near-misses.txt
	nearMissesTxt string
)

// Secrets returns the corpus of fake secrets, in file order.
func Secrets() []Secret { return append([]Secret(nil), load().secrets...) }

// NearMisses returns the near-misses, in file order.
func NearMisses() []NearMiss { return append([]NearMiss(nil), load().near...) }

type corpus struct {
	secrets []Secret
	near    []NearMiss
}

var load = sync.OnceValue(func() corpus {
	var c corpus
	for _, l := range lines(secretsTxt) {
		n, f := l.n, l.fields
		if len(f) < 3 || len(f) > 4 || f[0] == "" || f[2] == "" {
			panic(fmt.Sprintf("secrettest: secrets.txt line %d: want shape, flags, secret[, text]", n))
		}
		s := Secret{Shape: f[0], Value: f[2], Text: f[2], Alone: strings.Contains(f[1], "v"), InURL: strings.Contains(f[1], "q")}
		if len(f) == 4 && f[3] != "" {
			if !strings.Contains(f[3], "{S}") {
				panic(fmt.Sprintf("secrettest: secrets.txt line %d: text without {S}", n))
			}
			s.Text = strings.ReplaceAll(f[3], "{S}", s.Value)
		}
		c.secrets = append(c.secrets, s)
	}
	for _, l := range lines(nearMissesTxt) {
		n, f := l.n, l.fields
		if len(f) != 3 || f[0] == "" || f[2] == "" {
			panic(fmt.Sprintf("secrettest: near-misses.txt line %d: want name, flags, text", n))
		}
		c.near = append(c.near, NearMiss{Name: f[0], Text: f[2], URL: strings.Contains(f[1], "u")})
	}
	return c
})

type line struct {
	n      int // line number
	fields []string
}

// lines returns the tab-separated, unescaped fields of the lines of a
// corpus file that are neither blank nor comments.
func lines(file string) []line {
	var out []line
	for n, text := range strings.Split(file, "\n") {
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		for i := range f {
			f[i] = unescape(f[i])
		}
		out = append(out, line{n + 1, f})
	}
	return out
}

// unescape removes the scanner split marker "{-}" and turns \n and \\ into
// a newline and a backslash.
func unescape(s string) string {
	s = strings.ReplaceAll(s, "{-}", "")
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
