package stripegateway

// This file finds data.object in an event's bytes without decoding them, so
// that an event of a version read through a view (views.go) is decoded in
// one pass and still gives Outcome.RawObject.

// rawObjectSpan returns the bytes of data.object of an event, a sub-slice of
// payload, or nil when payload is not an object with a data object that has
// an object. Keys are matched exactly, as Stripe writes them; anything else
// (escaped or differently cased keys, which encoding/json would also
// accept) gives nil, and the caller falls back to decoding the envelope.
// It reads payload once and allocates nothing.
func rawObjectSpan(payload []byte) []byte {
	s := jsonScan{b: payload}
	data := s.member(`data`)
	if data < 0 {
		return nil
	}
	s = jsonScan{b: payload, i: data}
	obj := s.member(`object`)
	if obj < 0 || obj >= len(payload) || payload[obj] != '{' {
		return nil
	}
	s = jsonScan{b: payload, i: obj}
	if !s.value() {
		return nil
	}
	return payload[obj:s.i]
}

// jsonScan walks JSON text. It trusts the text to be valid JSON (the caller
// has decoded it with encoding/json) but never reads out of bounds on any
// input.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// member finds the member key of the object starting at s.i and returns
// the offset of its value, or -1.
func (s *jsonScan) member(key string) int {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return -1
	}
	s.i++
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return -1
		}
		start := s.i + 1
		if !s.str() {
			return -1
		}
		k := s.b[start : s.i-1]
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return -1
		}
		s.i++
		s.space()
		if string(k) == key {
			return s.i
		}
		if !s.value() {
			return -1
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ',' {
			return -1
		}
		s.i++
	}
}

// str skips the string starting at s.i.
func (s *jsonScan) str() bool {
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return true
		}
	}
	return false
}

// value skips the value starting at s.i.
func (s *jsonScan) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		return s.str()
	case '{', '[':
		depth := 0
		for ; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case '"':
				if !s.str() {
					return false
				}
				s.i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
		}
		return false
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return true
		}
		s.i++
	}
	return true
}
