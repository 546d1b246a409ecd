package logintegrity

import (
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PublicKey is one CloudTrail public key as ListPublicKeys returns it.
type PublicKey struct {
	Value       []byte // DER, PKCS #1 RSAPublicKey
	Fingerprint string // hex MD5 of Value
	Start, End  time.Time
}

// SignatureAlgorithm is the only algorithm CloudTrail signs digests with.
const SignatureAlgorithm = "SHA256withRSA"

// Fingerprint is the hex MD5 of a DER public key, as CloudTrail computes
// digestPublicKeyFingerprint.
func Fingerprint(der []byte) string {
	sum := md5.Sum(der)
	return hex.EncodeToString(sum[:])
}

// StringToSign is the data CloudTrail signs for a digest: its end time,
// bucket/key, the hex SHA-256 of the uncompressed digest and the previous
// digest's signature ("null" for the first of a chain), one per line.
func StringToSign(d *Digest, uncompressed []byte) []byte {
	sum := sha256.Sum256(uncompressed)
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	return []byte(d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" +
		hex.EncodeToString(sum[:]) + "\n" + prev)
}

// ErrSignature marks a signature that does not verify.
var ErrSignature = errors.New("signature verification failed")

// ParsePublicKey reads a CloudTrail public key: DER PKCS #1, the form
// ListPublicKeys documents. A key that arrives base64 encoded once more (as
// some clients hand the blob over) is decoded first.
func ParsePublicKey(value []byte) (*rsa.PublicKey, error) {
	if k, err := x509.ParsePKCS1PublicKey(value); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKIXPublicKey(value); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
	}
	if der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(value))); err == nil {
		if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("unable to load PKCS #1 key")
}

// VerifyDigest checks the signature (hex, from the digest object's
// "signature" metadata) over StringToSign with RSA PKCS #1 v1.5 / SHA-256.
func VerifyDigest(key *rsa.PublicKey, d *Digest, uncompressed []byte, signatureHex, algorithm string) error {
	if algorithm != SignatureAlgorithm {
		return fmt.Errorf("%w: signature algorithm %q is not %s", ErrSignature, algorithm, SignatureAlgorithm)
	}
	sig, err := hex.DecodeString(signatureHex)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrSignature)
	}
	h := sha256.Sum256(StringToSign(d, uncompressed))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, h[:], sig); err != nil {
		return ErrSignature
	}
	return nil
}

// keyRing holds a region's public keys by fingerprint.
type keyRing map[string][]PublicKey

func newKeyRing(keys []PublicKey) keyRing {
	r := keyRing{}
	r.add(keys)
	return r
}

func (r keyRing) add(keys []PublicKey) {
	for _, k := range keys {
		fp := strings.ToLower(k.Fingerprint)
		if fp == "" {
			fp = Fingerprint(k.Value)
		}
		r[fp] = append(r[fp], k)
	}
}

// find returns the key whose fingerprint is fp, preferring one whose
// validity window holds t (a digest is signed with the key valid at its
// end time).
func (r keyRing) find(fp string, t time.Time) (PublicKey, bool) {
	ks := r[strings.ToLower(fp)]
	if len(ks) == 0 {
		return PublicKey{}, false
	}
	for _, k := range ks {
		if (k.Start.IsZero() || !t.Before(k.Start)) && (k.End.IsZero() || !t.After(k.End)) {
			return k, true
		}
	}
	return ks[0], true
}
