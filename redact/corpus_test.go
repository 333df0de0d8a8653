package redact

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/internal/secrettest"
)

// corpusPolicies are the policies the corpus runs through: the default and
// hash mode, whose replacement differs.
var corpusPolicies = map[string]*Policy{
	"mask": New(),
	"hash": New(WithHashKey([]byte("corpus"))),
}

// doors returns what each way into the policy makes of text, by name.
func doors(p *Policy, text string) map[string]string {
	out := map[string]string{
		"String": p.String(text),
		"Error":  p.Error(fmt.Errorf("query orders: %w", fmt.Errorf("connect: %w", errors.New(text)))),
	}
	a, _ := p.Attr(slog.String("detail", text))
	out["Attr"] = a.Value.String()
	kv, _ := p.KeyValue(attribute.String("detail", text))
	out["KeyValue"] = kv.Value.AsString()
	r := slog.NewRecord(time.Time{}, slog.LevelError, text, 0)
	r.AddAttrs(slog.String("detail", text))
	rr, _ := p.Record(r)
	out["Record.Message"] = rr.Message
	rr.Attrs(func(a slog.Attr) bool {
		out["Record.Attr"] = a.Value.String()
		return false
	})
	return out
}

func TestCorpusSecrets(t *testing.T) {
	for mode, p := range corpusPolicies {
		for _, s := range secrettest.Secrets() {
			t.Run(mode+"/"+s.Shape, func(t *testing.T) {
				texts := []string{s.Text}
				if s.Alone {
					texts = append(texts, s.Value, "note="+s.Value, `{"note":"`+s.Value+`"}`, "got "+s.Value+", retrying")
				}
				for _, text := range texts {
					for door, got := range doors(p, text) {
						if strings.Contains(got, s.Value) {
							t.Errorf("%s(%q) = %q: the secret survived", door, text, got)
						}
						if door == "String" {
							if again := p.String(got); again != got {
								t.Errorf("String not idempotent on %q: %q -> %q", text, got, again)
							}
						}
					}
				}
				var urls []string
				if strings.HasPrefix(s.Text, "https://") {
					urls = append(urls, s.Text)
				}
				if s.Alone && s.InURL {
					urls = append(urls, "https://api.example.com/v1/items?q="+s.Value+"&page=2", "https://api.example.com/v1/"+s.Value+"/items")
				}
				for _, u := range urls {
					got := p.URLString(u)
					if strings.Contains(got, s.Value) {
						t.Errorf("URLString(%q) = %q: the secret survived", u, got)
					}
					if again := p.URLString(got); again != got {
						t.Errorf("URLString not idempotent on %q: %q -> %q", u, got, again)
					}
				}
			})
		}
	}
}

func TestCorpusNearMisses(t *testing.T) {
	p := New()
	for _, n := range secrettest.NearMisses() {
		t.Run(n.Name, func(t *testing.T) {
			for door, got := range doors(p, n.Text) {
				want := n.Text
				if door == "Error" {
					want = "query orders: connect: " + n.Text
				}
				if got != want {
					t.Errorf("%s(%q) = %q, want it unchanged", door, n.Text, got)
				}
			}
			if n.URL {
				if got := p.URLString(n.Text); got != n.Text {
					t.Errorf("URLString(%q) = %q, want it unchanged", n.Text, got)
				}
			}
		})
	}
}
