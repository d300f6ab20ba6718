package mapping

import "testing"

func TestDecimal(t *testing.T) {
	for in, ok := range map[string]bool{"10.00": true, "-2.5": true, "7": true, " 3.10 ": true, "1e3": false, "1.": false, ".5": false, "": false, "-": false, "1.2.3": false, "NaN": false} {
		if _, got := Decimal(in); got != ok {
			t.Errorf("Decimal(%q) ok = %v, want %v", in, got, ok)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{"jon@example.com": "j***@example.com", "x": "***", "@a.b": "***"} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}
