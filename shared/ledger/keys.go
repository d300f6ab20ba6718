package ledger

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Keys are the ledger's secrets, derived from one key the template
// generates (LedgerKey) and that only the forwarder and the releaser read:
// one keys the customer's hash, one seals a held reward's event (which
// carries the email Resonance needs when the reward is paid) while it
// waits. The key is never rotated: the hashes are what finds a customer's
// records and counts them against the caps.
type Keys struct {
	customer []byte
	seal     cipher.AEAD
}

// MinKeyBytes is the shortest ledger key accepted.
const MinKeyBytes = 32

// ErrSealed is returned by Open for a sealed value that does not open
// under these keys for this record (edited, or moved from another record).
var ErrSealed = errors.New("ledger: sealed event does not open")

// ParseKeys derives the keys from the ledger key secret.
func ParseKeys(s string) (*Keys, error) {
	s = strings.TrimSpace(s)
	if len(s) < MinKeyBytes {
		return nil, fmt.Errorf("ledger: a key of %d bytes is too short (at least %d)", len(s), MinKeyBytes)
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, []byte(s))
		m.Write([]byte("resonance-relay ledger " + label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("seal v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{customer: derive("customer v1"), seal: aead}, nil
}

// Customer is the customer's keyed hash: the same email (ignoring case and
// surrounding spaces) gives the same 32 hex digits under the same key, and
// nobody without the key can tell whose it is or test a guess.
func (k *Keys) Customer(email string) string {
	m := hmac.New(sha256.New, k.customer)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Seal encrypts plaintext for the record pk (bound to it: a sealed value
// copied to another record does not open there).
func (k *Keys) Seal(pk string, plaintext []byte) []byte {
	nonce := make([]byte, k.seal.NonceSize(), k.seal.NonceSize()+len(plaintext)+k.seal.Overhead())
	_, _ = rand.Read(nonce)
	return k.seal.Seal(nonce, nonce, plaintext, []byte(pk))
}

// Open decrypts what Seal sealed for pk.
func (k *Keys) Open(pk string, sealed []byte) ([]byte, error) {
	n := k.seal.NonceSize()
	if len(sealed) < n+k.seal.Overhead() {
		return nil, ErrSealed
	}
	out, err := k.seal.Open(nil, sealed[:n], sealed[n:], []byte(pk))
	if err != nil {
		return nil, ErrSealed
	}
	return out, nil
}

// Redact is a reward key fit to be a ledger record's key: any part of it
// (between colons) that holds an "@", as the generic source's signup key
// does for a customer without an id (an email address the mapper wrote in
// lower case), is replaced by its keyed hash, so that no plain email is
// kept at rest. The part is hashed exactly as it is: two reward keys the
// idempotency table tells apart (order ids "A@1" and "a@1") must not share
// a record, or the second would be taken for the first. Keys without an
// "@" are unchanged.
func (k *Keys) Redact(rewardKey string) string {
	if !strings.Contains(rewardKey, "@") {
		return rewardKey
	}
	parts := strings.Split(rewardKey, ":")
	for i, p := range parts {
		if strings.Contains(p, "@") {
			m := hmac.New(sha256.New, k.customer)
			m.Write([]byte("key part\x00" + p))
			parts[i] = "email-" + hex.EncodeToString(m.Sum(nil)[:16])
		}
	}
	return strings.Join(parts, ":")
}
