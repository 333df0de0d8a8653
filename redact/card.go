package redact

// Card numbers: 13 to 19 digits, optionally grouped by single spaces or
// dashes, starting with 2 to 6 (the issuer ranges of the card networks, which
// also keeps Unix millisecond timestamps out), and passing the Luhn check.

const maxCardGroups = 24

// matchCards looks at the run of digit groups starting at i (a digit at a
// word boundary), appends a span for every card number in it, and returns
// where the scan continues.
func matchCards(s string, i int, dst []span) ([]span, int) {
	if j := runEnd(s, i, isDigit); j-i < 13 && (j+1 >= len(s) || (s[j] != ' ' && s[j] != '-')) {
		return dst, j // a short number on its own: the common case
	}
	var gs, ge [maxCardGroups]int
	before := len(dst)
	n := 0
	j := i
	for n < maxCardGroups {
		gs[n] = j
		j = runEnd(s, j, isDigit)
		ge[n] = j
		n++
		if j+1 < len(s) && (s[j] == ' ' || s[j] == '-') && isDigit(s[j+1]) {
			j++
			continue
		}
		break
	}
	end := ge[n-1]
	if end < len(s) && isAlnum(s[end]) {
		// The last group runs into a word ("…1234abc"): it cannot end a
		// card number.
		n--
	}
	var sum [maxCardGroups + 1]int // digits in groups before g
	for g := 0; g < n; g++ {
		sum[g+1] = sum[g] + ge[g] - gs[g]
	}
	for a := 0; a < n; {
		found := false
		// Try the longest window starting at group a first.
		for b := n - 1; b >= a && !found; b-- {
			d := sum[b+1] - sum[a]
			if d < 13 || d > 19 {
				continue
			}
			if first := s[gs[a]]; first < '2' || first > '6' {
				break
			}
			if luhn(s[gs[a]:ge[b]]) {
				dst = append(dst, span{start: gs[a], end: ge[b], rule: ruleCard})
				a = b + 1
				found = true
			}
		}
		if !found {
			a++
		}
	}
	// Continue after the last card, or else after the first group: the
	// next group starts a run of its own (it may be an IP address).
	next := ge[0]
	if found := len(dst) - before; found > 0 {
		next = dst[len(dst)-1].end
	}
	return dst, max(next, i+1)
}

// luhn reports whether the digits of s (separators ignored) pass the Luhn
// check.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if !isDigit(c) {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// isCardNumber reports whether n, written in decimal, is a card number.
func isCardNumber(n uint64) bool {
	if n < 1e12 {
		return false
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	d := buf[i:]
	return len(d) >= 13 && len(d) <= 19 && d[0] >= '2' && d[0] <= '6' && luhn(string(d))
}
