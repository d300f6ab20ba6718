package mapping

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Currencies whose minor unit is not 1/100 (Stripe's list, which agrees
// with ISO 4217 for every currency Square settles in).
var (
	zeroDecimal  = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
	threeDecimal = "BHD JOD KWD OMR TND"
)

// Exponent is the number of decimals of a currency's minor unit.
func Exponent(currency string) int {
	c := strings.ToUpper(currency)
	switch {
	case len(c) == 3 && strings.Contains(zeroDecimal, c):
		return 0
	case len(c) == 3 && strings.Contains(threeDecimal, c):
		return 3
	}
	return 2
}

// FromMinorUnits turns an integer amount in minor units into a decimal
// number: 4999 usd -> 49.99, 5000 jpy -> 5000, 1234 kwd -> 1.234. A payment
// is never negative, and a currency is three letters (it decides where the
// point goes). The result is not bounded: pass it through Amount or
// Decimal.
func FromMinorUnits(amount json.Number, currency string) (json.Number, error) {
	n, err := amount.Int64()
	if err != nil {
		return "", fmt.Errorf("amount %q is not an integer", clipBytes([]byte(amount), 24))
	}
	if n < 0 {
		return "", fmt.Errorf("amount %d is negative", n)
	}
	if !isCurrency(currency) {
		return "", fmt.Errorf("currency %q is not a three-letter code", clipBytes([]byte(currency), 24))
	}
	exp := Exponent(currency)
	if exp == 0 {
		return json.Number(strconv.FormatInt(n, 10)), nil
	}
	div := int64(1)
	for range exp {
		div *= 10
	}
	return json.Number(fmt.Sprintf("%d.%0*d", n/div, exp, n%div)), nil
}

func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if b := c[i] | 0x20; b < 'a' || b > 'z' {
			return false
		}
	}
	return true
}
