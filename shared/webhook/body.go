package webhook

// Keep copies the named headers that are present into a new map.
func (h Header) Keep(names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		if v := h[n]; v != "" {
			out[n] = v
		}
	}
	return out
}

// LooksLikeObject reports whether body, trimmed of white space, starts with
// '{' and ends with '}'.
func LooksLikeObject(body []byte) bool {
	i, j := skipSpace(body, 0), len(body)
	for j > i && (body[j-1] == ' ' || body[j-1] == '\t' || body[j-1] == '\n' || body[j-1] == '\r') {
		j--
	}
	return j-i >= 2 && body[i] == '{' && body[j-1] == '}'
}
