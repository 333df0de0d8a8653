package redact

import "strings"

// Provider tokens: credentials that announce themselves by a prefix, such
// as "ghp_" or "xoxb-". A token is found at its separator ('_', '-' or
// '.'): the run of letters and digits before it must be a known prefix, and
// the body after it must have the provider's characters and length. The
// prefixes are those with few false positives; tokens without a prefix
// (Datadog, Databricks' older keys, plain UUIDs) need WithPattern.

// Rule names of the provider tokens, the values of the counter's "rule"
// attribute.
const (
	ruleGoogleAPIKey   = "google_api_key"
	ruleGoogleOAuth    = "google_oauth"
	ruleSlackWebhook   = "webhook_url"
	ruleTwilio         = "twilio_key"
	ruleSendGrid       = "sendgrid_key"
	ruleNPM            = "npm_token"
	rulePyPI           = "pypi_token"
	ruleAIKey          = "ai_api_key"
	ruleHeroku         = "heroku_key"
	ruleMailgun        = "mailgun_key"
	ruleMailchimp      = "mailchimp_key"
	ruleShopify        = "shopify_token"
	ruleDigitalOcean   = "digitalocean_token"
	ruleVault          = "vault_token"
	ruleAtlassian      = "atlassian_token"
	ruleAzure          = "azure_client_secret"
	ruleTelegram       = "telegram_token"
	ruleAge            = "age_secret_key"
	ruleSaaSToken      = "saas_token"
	ruleDSN            = "dsn_userinfo"
	rulePercentEncoded = "percent_encoded"
)

// builtinRules are the rule names counted by otelkit.redact.count, besides
// those given to WithPattern.
var builtinRules = []string{
	ruleKey, ruleHeader, ruleURLUserinfo, ruleURLQuery, ruleJWT,
	ruleBearer, ruleBasic, ruleAWS, ruleGitHub, ruleGitLab, ruleSlack,
	ruleStripe, rulePrivateKey, ruleCard, ruleEmail, ruleIP,
	ruleKeyValue, ruleTruncated,
	ruleGoogleAPIKey, ruleGoogleOAuth, ruleSlackWebhook, ruleTwilio, ruleSendGrid, ruleNPM,
	rulePyPI, ruleAIKey, ruleHeroku, ruleMailgun, ruleMailchimp, ruleShopify,
	ruleDigitalOcean, ruleVault, ruleAtlassian, ruleAzure, ruleTelegram, ruleAge,
	ruleSaaSToken, ruleDSN, rulePercentEncoded,
}

// tokenRule is one prefixed token shape: prefix, sep, then lit, then a body
// of min to max characters for which body is true (max 0: no bound). A body
// that runs longer than max is some other string, not this token.
type tokenRule struct {
	prefix    string
	sep       byte
	lit       string
	body      func(byte) bool
	min, max  int
	needDigit bool // the body must hold a digit ("sk-" in prose has none)
	rule      string
}

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

func isUpperAlnum(c byte) bool { return isUpper(c) || isDigit(c) }

func isB64URLDot(c byte) bool { return isB64URL(c) || c == '.' }

func isAlnumUnderscore(c byte) bool { return isAlnum(c) || c == '_' }

func isAlnumDash(c byte) bool { return isAlnum(c) || c == '-' }

func isB64Std(c byte) bool {
	return isAlnum(c) || c == '+' || c == '/' || c == '=' || c == '_' || c == '-'
}

// tokenRules lists the prefixed tokens. Order matters only among rules of
// the same prefix and separator: the first whose body fits wins.
var tokenRules = []tokenRule{
	// GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens.
	{prefix: "ghp", sep: '_', body: isAlnum, min: 30, rule: ruleGitHub},
	{prefix: "gho", sep: '_', body: isAlnum, min: 30, rule: ruleGitHub},
	{prefix: "ghu", sep: '_', body: isAlnum, min: 30, rule: ruleGitHub},
	{prefix: "ghs", sep: '_', body: isAlnum, min: 30, rule: ruleGitHub},
	{prefix: "ghr", sep: '_', body: isAlnum, min: 30, rule: ruleGitHub},
	{prefix: "github", sep: '_', lit: "pat_", body: isAlnumUnderscore, min: 20, rule: ruleGitHub},
	// Stripe secret and restricted keys, live and test, and webhook secrets.
	{prefix: "sk", sep: '_', lit: "live_", body: isAlnum, min: 10, rule: ruleStripe},
	{prefix: "sk", sep: '_', lit: "test_", body: isAlnum, min: 10, rule: ruleStripe},
	{prefix: "rk", sep: '_', lit: "live_", body: isAlnum, min: 10, rule: ruleStripe},
	{prefix: "rk", sep: '_', lit: "test_", body: isAlnum, min: 10, rule: ruleStripe},
	{prefix: "whsec", sep: '_', body: isAlnum, min: 20, rule: ruleStripe},
	// npm access tokens.
	{prefix: "npm", sep: '_', body: isAlnum, min: 36, max: 36, rule: ruleNPM},
	// Shopify access, custom-app, private-app tokens and shared secrets.
	{prefix: "shpat", sep: '_', body: isHex, min: 32, max: 32, rule: ruleShopify},
	{prefix: "shpca", sep: '_', body: isHex, min: 32, max: 32, rule: ruleShopify},
	{prefix: "shppa", sep: '_', body: isHex, min: 32, max: 32, rule: ruleShopify},
	{prefix: "shpss", sep: '_', body: isHex, min: 32, max: 32, rule: ruleShopify},
	// DigitalOcean personal, OAuth and refresh tokens.
	{prefix: "dop", sep: '_', lit: "v1_", body: isHex, min: 64, max: 64, rule: ruleDigitalOcean},
	{prefix: "doo", sep: '_', lit: "v1_", body: isHex, min: 64, max: 64, rule: ruleDigitalOcean},
	{prefix: "dor", sep: '_', lit: "v1_", body: isHex, min: 64, max: 64, rule: ruleDigitalOcean},
	// AI providers: Groq, Replicate, Hugging Face.
	{prefix: "gsk", sep: '_', body: isAlnum, min: 40, rule: ruleAIKey},
	{prefix: "r8", sep: '_', body: isAlnum, min: 30, rule: ruleAIKey},
	{prefix: "hf", sep: '_', body: isAlnum, min: 30, rule: ruleAIKey},
	// Other SaaS tokens: Grafana service accounts and Cloud, Docker Hub,
	// Supabase, Sentry, PlanetScale, Buildkite, Linear, Notion, CircleCI.
	{prefix: "glsa", sep: '_', body: isAlnumUnderscore, min: 32, rule: ruleSaaSToken},
	{prefix: "glc", sep: '_', body: isB64Std, min: 32, rule: ruleSaaSToken},
	{prefix: "dckr", sep: '_', lit: "pat_", body: isB64URL, min: 24, rule: ruleSaaSToken},
	{prefix: "sbp", sep: '_', body: isHex, min: 40, max: 40, rule: ruleSaaSToken},
	{prefix: "sntrys", sep: '_', body: isB64Std, min: 40, rule: ruleSaaSToken},
	{prefix: "sntryu", sep: '_', body: isHex, min: 64, max: 64, rule: ruleSaaSToken},
	{prefix: "pscale", sep: '_', lit: "tkn_", body: isB64URL, min: 32, rule: ruleSaaSToken},
	{prefix: "pscale", sep: '_', lit: "pw_", body: isB64URL, min: 32, rule: ruleSaaSToken},
	{prefix: "pscale", sep: '_', lit: "oauth_", body: isB64URL, min: 32, rule: ruleSaaSToken},
	{prefix: "bkua", sep: '_', body: isHex, min: 40, max: 40, rule: ruleSaaSToken},
	{prefix: "lin", sep: '_', lit: "api_", body: isAlnum, min: 40, max: 40, rule: ruleSaaSToken},
	{prefix: "ntn", sep: '_', body: isAlnum, min: 40, rule: ruleSaaSToken},
	{prefix: "CCIPAT", sep: '_', body: isAlnumUnderscore, min: 40, rule: ruleSaaSToken},

	// GitLab tokens of every kind.
	{prefix: "glpat", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "gldt", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "glrt", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "glptt", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "glcbt", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "gloas", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "glft", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "glimt", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "glsoat", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	{prefix: "glagent", sep: '-', body: isB64URL, min: 20, rule: ruleGitLab},
	// Slack bot, user, app, refresh, config and app-level tokens.
	{prefix: "xoxb", sep: '-', body: isAlnumDash, min: 10, rule: ruleSlack},
	{prefix: "xoxp", sep: '-', body: isAlnumDash, min: 10, rule: ruleSlack},
	{prefix: "xoxa", sep: '-', body: isAlnumDash, min: 10, rule: ruleSlack},
	{prefix: "xoxr", sep: '-', body: isAlnumDash, min: 10, rule: ruleSlack},
	{prefix: "xoxs", sep: '-', body: isAlnumDash, min: 10, rule: ruleSlack},
	{prefix: "xoxo", sep: '-', body: isAlnumDash, min: 10, rule: ruleSlack},
	{prefix: "xoxe", sep: '-', body: isAlnumDash, min: 10, rule: ruleSlack},
	{prefix: "xapp", sep: '-', body: isAlnumDash, min: 10, rule: ruleSlack},
	// OpenAI (sk-, sk-proj-, sk-svcacct-) and Anthropic (sk-ant-) keys,
	// Perplexity and xAI.
	{prefix: "sk", sep: '-', body: isB64URL, min: 32, needDigit: true, rule: ruleAIKey},
	{prefix: "pplx", sep: '-', body: isAlnum, min: 40, rule: ruleAIKey},
	{prefix: "xai", sep: '-', body: isAlnum, min: 40, rule: ruleAIKey},
	// PyPI upload tokens (a macaroon whose first bytes name pypi.org or
	// test.pypi.org).
	{prefix: "pypi", sep: '-', lit: "AgEIcHlwaS5vcmc", body: isB64URL, min: 40, rule: rulePyPI},
	{prefix: "pypi", sep: '-', lit: "AgENdGVzdC5weXBpLm9yZw", body: isB64URL, min: 40, rule: rulePyPI},
	// Heroku API keys (the prefixed form).
	{prefix: "HRKU", sep: '-', body: isB64URL, min: 50, rule: ruleHeroku},
	// Mailgun private API keys.
	{prefix: "key", sep: '-', body: isHex, min: 32, max: 32, rule: ruleMailgun},
	// Google OAuth client secrets.
	{prefix: "GOCSPX", sep: '-', body: isB64URL, min: 24, rule: ruleGoogleOAuth},
	// age secret keys.
	{prefix: "AGE", sep: '-', lit: "SECRET-KEY-1", body: isUpperAlnum, min: 50, rule: ruleAge},
	// Postman, New Relic, Square, Pulumi.
	{prefix: "PMAK", sep: '-', body: isAlnumDash, min: 50, rule: ruleSaaSToken},
	{prefix: "NRAK", sep: '-', body: isUpperAlnum, min: 27, max: 27, rule: ruleSaaSToken},
	{prefix: "sq0atp", sep: '-', body: isB64URL, min: 22, rule: ruleSaaSToken},
	{prefix: "sq0csp", sep: '-', body: isB64URL, min: 40, rule: ruleSaaSToken},
	{prefix: "pul", sep: '-', body: isHex, min: 40, max: 40, rule: ruleSaaSToken},

	// HashiCorp Vault service, batch and recovery tokens.
	{prefix: "hvs", sep: '.', body: isB64URL, min: 24, rule: ruleVault},
	{prefix: "hvb", sep: '.', body: isB64URL, min: 24, rule: ruleVault},
	{prefix: "hvr", sep: '.', body: isB64URL, min: 24, rule: ruleVault},
	// Google OAuth access tokens.
	{prefix: "ya29", sep: '.', body: isB64URL, min: 20, rule: ruleGoogleOAuth},
	// SendGrid API keys: SG.<22>.<43>.
	{prefix: "SG", sep: '.', body: isB64URLDot, min: 60, rule: ruleSendGrid},
	// Doppler tokens.
	{prefix: "dp", sep: '.', lit: "pt.", body: isAlnum, min: 40, rule: ruleSaaSToken},
	{prefix: "dp", sep: '.', lit: "st.", body: isAlnumDash, min: 40, rule: ruleSaaSToken},
	// Terraform Cloud / HCP Terraform tokens: <14>.atlasv1.<60+>; the
	// part before ".atlasv1" is taken too (see matchToken).
	{prefix: "atlasv1", sep: '.', body: isB64URL, min: 60, rule: ruleSaaSToken},
}

type tokenKey struct {
	sep    byte
	prefix string
}

// tokenIndex finds the rules of a prefix and separator. Most words before
// a separator are no prefix at all, so tokenLens rejects them first without
// hashing: bit n of tokenLens[sep][c] is set when some prefix of length n
// ends in c before sep.
var (
	tokenIndex     = map[tokenKey][]tokenRule{}
	tokenLens      [3][256]uint16
	tokenMaxPrefix int
)

func sepIndex(c byte) int {
	switch c {
	case '_':
		return 0
	case '-':
		return 1
	default:
		return 2
	}
}

func init() {
	for _, r := range tokenRules {
		k := tokenKey{r.sep, r.prefix}
		tokenIndex[k] = append(tokenIndex[k], r)
		tokenLens[sepIndex(r.sep)][r.prefix[len(r.prefix)-1]] |= 1 << len(r.prefix)
		tokenMaxPrefix = max(tokenMaxPrefix, len(r.prefix))
	}
}

// matchToken matches a prefixed token at its separator i, or a Mailchimp
// key ("<32 hex>-us<digits>"), or a Slack or Discord webhook URL's secret.
func matchToken(s string, i int) (span, bool) {
	j := i
	for j > 0 && i-j <= 32 && isAlnum(s[j-1]) {
		j--
	}
	if j > 0 && isAlnum(s[j-1]) {
		return span{}, false // a long word: no prefix
	}
	n := i - j
	if n == 32 && s[i] == '-' {
		return matchMailchimp(s, j, i)
	}
	if n > 0 && n <= tokenMaxPrefix && tokenLens[sepIndex(s[i])][s[i-1]]&(1<<n) != 0 {
		if sp, ok := matchPrefixed(s, j, i); ok {
			return sp, true
		}
	}
	if s[i] == '.' && n > 0 && (s[j] == 'h' || s[j] == 'd') {
		return matchWebhook(s, j, i)
	}
	return span{}, false
}

// matchPrefixed matches a token of tokenRules whose prefix runs from j to
// the separator at i.
func matchPrefixed(s string, j, i int) (span, bool) {
	for _, r := range tokenIndex[tokenKey{s[i], s[j:i]}] {
		b := i + 1
		if !strings.HasPrefix(s[b:], r.lit) {
			continue
		}
		b += len(r.lit)
		limit := maxTokenCheck
		if r.max > 0 {
			limit = r.max + 1
		}
		end := runEndMax(s, b, limit, r.body)
		if end-b < r.min || (r.max > 0 && end-b > r.max) {
			continue
		}
		if r.needDigit && !hasDigit(s[b:end]) {
			continue
		}
		if end-b == limit {
			end = runEnd(s, end, r.body) // a match: take all of it
		}
		start := j
		if r.prefix == "atlasv1" && j >= 2 && s[j-1] == '.' {
			start = tokenStart(s, j-1)
		}
		return span{start: start, end: end, rule: r.rule}, true
	}
	return span{}, false
}

// maxTokenCheck bounds how much of a token's body a rule reads before it
// decides (see runEndMax).
const maxTokenCheck = 512

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

// matchMailchimp matches "<32 hex>-us<1 or 2 digits>" whose hex starts at j
// and whose dash is at i.
func matchMailchimp(s string, j, i int) (span, bool) {
	for k := j; k < i; k++ {
		if !isHex(s[k]) {
			return span{}, false
		}
	}
	if !strings.HasPrefix(s[i:], "-us") {
		return span{}, false
	}
	e := runEnd(s, i+3, isDigit)
	if e-i-3 < 1 || e-i-3 > 2 || (e < len(s) && isAlnum(s[e])) {
		return span{}, false
	}
	return span{start: j, end: e, rule: ruleMailchimp}, true
}

// webhooks are the URLs whose path holds their own secret: the host (the
// word before the dot and the rest), and how many path segments after it
// are public before the secret one.
var webhooks = [...]struct {
	word, rest string
	public     int
}{
	{"hooks", ".slack.com/services/", 2},    // /services/T…/B…/<secret>
	{"hooks", ".slack.com/workflows/", 2},   // /workflows/T…/A…/<secret>
	{"discord", ".com/api/webhooks/", 1},    // /api/webhooks/<id>/<secret>
	{"discordapp", ".com/api/webhooks/", 1}, // the former host
}

// matchWebhook matches the secret path segment of a Slack or Discord
// webhook URL whose host word runs from j to the dot at i.
func matchWebhook(s string, j, i int) (span, bool) {
	for _, w := range webhooks {
		if i-j != len(w.word) || s[j:i] != w.word || !strings.HasPrefix(s[i:], w.rest) {
			continue
		}
		k := i + len(w.rest)
		for range w.public {
			e := runEnd(s, k, isAlnum)
			if e == k || e >= len(s) || s[e] != '/' {
				return span{}, false
			}
			k = e + 1
		}
		e := runEnd(s, k, isB64URL)
		if e-k < 8 || isMarker(s[k:e]) {
			return span{}, false
		}
		return span{start: k, end: e, rule: ruleSlackWebhook}, true
	}
	return span{}, false
}

// matchUpper matches, at an upper-case 'A' or 'S' at a word boundary, the
// tokens that start with a fixed upper-case prefix: AWS access key IDs
// (AKIA…, ASIA…, ABIA…, ACCA… and 16 upper-case letters or digits), Google
// API keys (AIza and 35 more), Atlassian API tokens (ATATT3…) and Twilio
// API key SIDs (SK and 32 hex digits). Twilio account SIDs (AC…) name an
// account, like a user name, and are left alone.
func matchUpper(s string, i int) (span, bool) {
	if len(s)-i < 20 || (i > 0 && isAlnum(s[i-1])) {
		return span{}, false
	}
	switch s[i : i+2] {
	case "SK":
		e := runEndMax(s, i+2, 33, isHex)
		if e-i != 34 || (e < len(s) && isAlnum(s[e])) {
			return span{}, false
		}
		return span{start: i, end: e, rule: ruleTwilio}, true
	case "AI":
		if s[i+2:i+4] != "za" {
			return span{}, false
		}
		if e := runEndMax(s, i, 40, isB64URL); e-i == 39 {
			return span{start: i, end: e, rule: ruleGoogleAPIKey}, true
		}
		return span{}, false
	case "AT":
		if !strings.HasPrefix(s[i:], "ATATT3") {
			return span{}, false
		}
		e := runEnd(s, i, isB64Std)
		if e-i < 100 {
			return span{}, false
		}
		return span{start: i, end: e, rule: ruleAtlassian}, true
	}
	return matchAWS(s, i)
}
