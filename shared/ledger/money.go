package ledger

import (
	"encoding/json"
	"math/big"
	"strings"
)

// Amounts are decimals as mapping.Decimal accepts them (at most 6 places):
// they are added and compared exactly, never through float64, and stored
// as DynamoDB numbers (exact decimals).

func rat(v json.Number) *big.Rat {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(string(v)))
	if !ok {
		return new(big.Rat)
	}
	return r
}

// decimal writes r with at most 6 places and no trailing zeros.
func decimal(r *big.Rat) json.Number {
	s := r.FloatString(6)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" || s == "" {
		s = "0"
	}
	return json.Number(s)
}

// Sub is a - b (may be negative).
func Sub(a, b json.Number) json.Number { return decimal(new(big.Rat).Sub(rat(a), rat(b))) }

// Add is a + b.
func Add(a, b json.Number) json.Number { return decimal(new(big.Rat).Add(rat(a), rat(b))) }

// Cmp compares a and b (-1, 0, +1); "" is 0.
func Cmp(a, b json.Number) int { return rat(a).Cmp(rat(b)) }

// Max is the larger of a and b.
func Max(a, b json.Number) json.Number {
	if Cmp(a, b) >= 0 {
		return a
	}
	return b
}

// Positive reports whether v > 0.
func Positive(v json.Number) bool { return rat(v).Sign() > 0 }
