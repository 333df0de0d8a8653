package redact

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// CounterName is the name of the counter of redactions. Its attribute
// "rule" names the rule that fired; see the package documentation for the
// list of rules.
const CounterName = "otelkit.redact.count"

const scopeName = "github.com/otelkit/otelkit/redact"

// Rule names, the values of the counter's "rule" attribute.
const (
	ruleKey         = "key"
	ruleHeader      = "header"
	ruleURLUserinfo = "url_userinfo"
	ruleURLQuery    = "url_query"
	ruleJWT         = "jwt"
	ruleBearer      = "bearer"
	ruleBasic       = "basic"
	ruleAWS         = "aws_access_key"
	ruleGitHub      = "github_token"
	ruleGitLab      = "gitlab_token"
	ruleSlack       = "slack_token"
	ruleStripe      = "stripe_key"
	rulePrivateKey  = "private_key"
	ruleCard        = "card_number"
	ruleEmail       = "email"
	ruleIP          = "ip"
	ruleKeyValue    = "key_value"
	ruleTruncated   = "truncated"
)

// counter counts redactions by rule. The instrument is created at the
// first redaction, so the global MeterProvider is looked up late.
type counter struct {
	mp   metric.MeterProvider // nil: the global one
	opts map[string][]metric.AddOption
	once sync.Once
	c    metric.Int64Counter
}

func (c *counter) init(mp metric.MeterProvider, rules []string) {
	c.mp = mp
	c.opts = make(map[string][]metric.AddOption, len(rules))
	for _, r := range rules {
		c.opts[r] = ruleOpts(r)
	}
}

func ruleOpts(rule string) []metric.AddOption {
	set := attribute.NewSet(attribute.String("rule", rule))
	return []metric.AddOption{metric.WithAttributeSet(set)}
}

func (c *counter) add(rule string, n int64) {
	if n <= 0 {
		return
	}
	c.once.Do(func() {
		mp := c.mp
		if mp == nil {
			mp = otel.GetMeterProvider()
		}
		ctr, err := mp.Meter(scopeName).Int64Counter(CounterName,
			metric.WithUnit("{redaction}"),
			metric.WithDescription("Values redacted before leaving the process, by rule."))
		if err != nil {
			otel.Handle(err)
		}
		c.c = ctr // a non-nil no-op instrument even on error
	})
	if c.c == nil {
		return
	}
	opts, ok := c.opts[rule]
	if !ok {
		opts = ruleOpts(rule)
	}
	c.c.Add(context.Background(), n, opts...)
}

// count records one redaction by rule.
func (p *Policy) count(rule string) { p.counter.add(rule, 1) }
