package mapping

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Currencies whose minor unit is not 1/100: Stripe's list (its API's
// amounts), and ISO 4217's (Square's, and what a generic source's amounts
// in minor units follow). They differ: Stripe counts ISK and UGX in
// hundredths and MGA in units, and lists neither IQD, LYD (1/1000) nor CLF,
// UYW (1/10000).
var (
	zeroDecimal     = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
	threeDecimal    = "BHD JOD KWD OMR TND"
	isoZeroDecimal  = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
	isoThreeDecimal = "BHD IQD JOD KWD LYD OMR TND"
	isoFourDecimal  = "CLF UYW"
)

// Exponent is the number of decimals of a currency's minor unit in
// Stripe's amounts.
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

// ISOExponent is the number of decimals of a currency's minor unit by ISO
// 4217.
func ISOExponent(currency string) int {
	c := strings.ToUpper(currency)
	switch {
	case len(c) != 3:
	case strings.Contains(isoZeroDecimal, c):
		return 0
	case strings.Contains(isoThreeDecimal, c):
		return 3
	case strings.Contains(isoFourDecimal, c):
		return 4
	}
	return 2
}

// FromMinorUnits turns an integer amount in minor units into a decimal
// number: 4999 usd -> 49.99, 5000 jpy -> 5000, 1234 kwd -> 1.234. A payment
// is never negative, and a currency is three letters (it decides where the
// point goes). The result is not bounded: pass it through Amount or
// Decimal.
func FromMinorUnits(amount json.Number, currency string) (json.Number, error) {
	return fromMinor(amount, currency, Exponent)
}

// FromISOMinorUnits is FromMinorUnits by ISO 4217's minor units
// (ISOExponent): 12345 iqd -> 12.345, 5000 isk -> 5000.
func FromISOMinorUnits(amount json.Number, currency string) (json.Number, error) {
	return fromMinor(amount, currency, ISOExponent)
}

func fromMinor(amount json.Number, currency string, exponent func(string) int) (json.Number, error) {
	n, err := amount.Int64()
	if err != nil {
		return "", fmt.Errorf("amount %q is not an integer", clipBytes([]byte(amount), 24))
	}
	if n < 0 {
		return "", fmt.Errorf("amount %d is negative", n)
	}
	if !IsCurrency(currency) {
		return "", fmt.Errorf("currency %q is not a three-letter code", clipBytes([]byte(currency), 24))
	}
	exp := exponent(currency)
	if exp == 0 {
		return json.Number(strconv.FormatInt(n, 10)), nil
	}
	div := int64(1)
	for range exp {
		div *= 10
	}
	return json.Number(fmt.Sprintf("%d.%0*d", n/div, exp, n%div)), nil
}

// IsCurrency reports whether c is a currency code: three ASCII letters,
// either case.
func IsCurrency(c string) bool {
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
