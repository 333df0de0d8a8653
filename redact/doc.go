// Package redact keeps secrets and personal data from leaving the process.
//
// One [Policy], built once with [New] and shared, decides what is secret;
// every otelkit package applies it to whatever it writes: log records and
// their attributes, span attributes, span events, status descriptions,
// request and dependency URLs, headers and error strings. A secret cannot
// leak through a side door because every door uses the same policy.
//
//	policy := redact.New()                     // useful with no options
//	policy.String("login with token=abc123")   // "login with token=[REDACTED]"
//	policy.URLString("https://u:p@h/?sig=x")   // "https://REDACTED:REDACTED@h/?sig=REDACTED"
//
// # Keys
//
// A value is redacted whatever it looks like when its key is sensitive
// ([Policy.IsSensitiveKey]). Keys match regardless of case and separators
// ("api_key", "apiKey", "API-KEY", "x-api-key"). The built-in keys are
// password, passwd, pwd, pass, passphrase, passcode, secret, token,
// access_token, refresh_token, id_token, authorization, api_key,
// private_key, client_secret, client_assertion, secret_key, session,
// session_id, session_key, cookie, set-cookie, card_number, credit_card,
// cvv, cvc, pin, otp, totp, iban, bank_account, ssn, jwt, credentials,
// account_key and shared_access_key; add more with [WithSensitiveKeys].
// Besides, a key containing the whole word password, passwd, secret or
// token matches ("auth_token", "DB_PASSWORD"), while "tokens_used",
// "secretary", "passenger" and "pinned" do not.
//
// A key that is itself a secret (the value rules below find one in it: a
// token, a JWT, "password=hunter2") becomes [KeyMask] and its value [Mask],
// wherever keys are: attribute keys, group names, map keys inside
// slog.Any, span, event and link attribute keys ([Policy.Key]).
//
// # Values
//
// Secrets under innocent keys and inside free text (messages, error
// strings, panic values) are found by value rules: JWTs, Bearer and Basic
// credentials, AWS access key IDs, provider tokens with a distinctive
// prefix (Google, GitHub, GitLab, Slack, Stripe, Twilio, SendGrid, npm,
// PyPI, OpenAI, Anthropic, Heroku, Mailgun, Shopify, DigitalOcean, Vault,
// Azure, Telegram and more), Slack and Discord webhook URLs, PEM private
// keys, card numbers (13 to 19 digits starting with 2 to 6 — the Visa,
// Mastercard, American Express, Discover, JCB, UnionPay and similar ranges
// — grouped by spaces or dashes, Luhn-checked), key=value and key: value
// pairs with a sensitive key (percent-encoded too), URLs with credentials
// or sensitive query parameters, and the userinfo of scheme-less data
// source names ("user:pw@tcp(db:3306)/app"). Email and IP addresses are
// opt-in ([WithEmailRule], [WithIPRule]); custom rules are added with
// [WithPattern]. See [Policy.String]; docs/redaction.md in the repository
// lists every rule with its near-misses.
//
// # URLs and headers
//
// [Policy.URL] and [Policy.URLString] follow the semantic conventions for
// url.full: userinfo becomes "REDACTED:REDACTED@" and the values of
// sensitive query parameters (AWSAccessKeyId, Signature, sig,
// X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token,
// X-Goog-Signature, key, code, code_verifier, assertion, SAMLResponse,
// auth and the sensitive keys) become "REDACTED", without
// reordering or re-encoding the rest. [WithDropQuery] drops the query.
//
// [Policy.Header] and [Policy.HeaderAttr] log headers: a deny list
// (Authorization, Cookie, Set-Cookie, X-Api-Key, …) always wins, and in
// allow-list mode, the default, only allow-listed headers are logged at all.
//
// # Modes
//
// In mask mode, the default, a secret becomes [Mask] ("[REDACTED]"). With
// [WithHashKey] it becomes a keyed hash ("hmac:" and 16 hex digits of
// HMAC-SHA256), so an identifier such as a user ID stays correlatable
// without being readable; [Policy.Hash] hashes on demand in either mode.
// URL parts always become "REDACTED".
//
// # Logs, spans and errors
//
// For slog, [Policy.Record] redacts a record, [Policy.Attr] and
// [Policy.Attrs] attributes (resolving LogValuers and walking groups, and
// the maps, slices and structs inside slog.Any within the limits of
// [WithMaxDepth] and [WithMaxItems]; a value that says how it is printed
// is redacted as printed: a json.Marshaler's JSON (a json.RawMessage body)
// is decoded and walked, key rules included, a TextMarshaler's text and a
// fmt.Stringer's String are scanned; card numbers are caught in float64s
// too, where decoded JSON puts them), [Policy.Handler] wraps any handler and
// [Policy.ReplaceAttr] plugs into the standard handlers. For traces,
// [Policy.KeyValue] redacts an attribute and [Policy.SpanExporter] wraps an
// exporter so span attributes, events (exception messages) and status
// descriptions are redacted before export. [Policy.Error] redacts an
// error's text; note that *url.Error prints the whole URL, query included.
// [Secret] is a string type that always logs as redacted.
//
// # Idempotence and safety
//
// Redacting twice gives the same result as redacting once: the rules skip
// their own markers and hashes. No method panics, whatever the input; if
// redaction itself fails, the value is replaced by [Mask] rather than let
// through.
//
// # Metrics
//
// Every redaction adds one to the counter otelkit.redact.count, whose
// attribute rule is one of key, header, url_userinfo, url_query, jwt,
// bearer, basic, aws_access_key, github_token, gitlab_token, slack_token,
// stripe_key, private_key, card_number, email, ip, key_value, truncated,
// google_api_key, google_oauth, webhook_url, twilio_key, sendgrid_key,
// npm_token, pypi_token, ai_api_key, heroku_key, mailgun_key,
// mailchimp_key, shopify_token, digitalocean_token, vault_token,
// atlassian_token, azure_client_secret, telegram_token, age_secret_key,
// saas_token, dsn_userinfo, percent_encoded, or the name given to
// [WithPattern]. The counter comes from
// [WithMeterProvider], or else from the global MeterProvider, looked up at
// the first redaction.
//
// # Concurrency
//
// A Policy is immutable after New and safe for concurrent use. A nil
// *Policy behaves like New() with no options.
//
// # Performance considerations
//
// Clean input is the common case and costs little: [Policy.IsSensitiveKey]
// remembers its answers for a bounded number of short keys and otherwise
// normalizes the key on the stack; [Policy.String] looks closely only at
// bytes that can start a secret. Neither allocates when nothing matches, and neither do
// [Policy.Attr] and [Policy.Record] for scalar and group attributes. Custom
// patterns run a regular expression over every string and cost more.
package redact
