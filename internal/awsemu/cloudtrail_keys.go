package awsemu

import (
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Digest signing keys. CloudTrail "uses different private and public key
// pairs per Region. Each digest file is signed with a private key unique
// to its Region" (ListPublicKeys reference), and serves the public halves
// by ListPublicKeys: Value "The DER encoded public key value in PKCS#1
// format" (a blob: base64 on the wire), Fingerprint, and a validity
// window. The emulator holds a 2048-bit pair per region, valid from before
// the first digest it signed, until a test rotates it (RotateSigningKey).

// signingKeyBits is the size of the RSA keys CloudTrail signs with.
const signingKeyBits = 2048

// signingKeyLife is how long after its start a key is reported valid
// until it is rotated.
const signingKeyLife = 10 * 365 * 24 * time.Hour

// regionKeys holds one private key per region for the process: RSA key
// generation takes a tenth of a second or more, and every emulator of a
// test binary may share the keys, as long as each emulator keeps using
// the one it began with.
var regionKeys sync.Map // region → *regionKey

type regionKey struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

// privateKeyFor returns the region's private key, generating it on first
// use. It must not be called with e.mu held: generation is slow.
func privateKeyFor(region string) (*rsa.PrivateKey, error) {
	v, _ := regionKeys.LoadOrStore(region, &regionKey{})
	rk := v.(*regionKey)
	rk.once.Do(func() {
		rk.key, rk.err = rsa.GenerateKey(rand.Reader, signingKeyBits)
		if rk.err != nil {
			rk.err = fmt.Errorf("generate the %s digest signing key: %w", region, rk.err)
		}
	})
	return rk.key, rk.err
}

// signingKey is a region's key as one emulator uses it.
type signingKey struct {
	priv        *rsa.PrivateKey
	der         []byte // PKCS#1 DER of the public key: ListPublicKeys Value
	fingerprint string // hex MD5 of der: digestPublicKeyFingerprint
	// validFrom–validEnd is the window ListPublicKeys reports; digests
	// ending in it are signed with the key.
	validFrom, validEnd time.Time
}

func newSigningKey(priv *rsa.PrivateKey, from time.Time) *signingKey {
	der := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	sum := md5.Sum(der)
	return &signingKey{priv: priv, der: der, fingerprint: hex.EncodeToString(sum[:]), validFrom: from, validEnd: from.Add(signingKeyLife)}
}

// sign signs a digest's data-signing string as CloudTrail does: RSA
// PKCS#1 v1.5 over its SHA-256 ("SHA256withRSA"), hex encoded for the
// object's signature metadata.
func (k *signingKey) sign(data string) (string, error) {
	sum := sha256.Sum256([]byte(data))
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign a digest: %w", err)
	}
	return hex.EncodeToString(sig), nil
}

// regionSigningKeys returns the emulator's keys for region, oldest first,
// the first valid from at or before from (the top of its hour). Called
// with e.mu held; priv, the region's first key, comes from privateKeyFor.
func (e *Emulator) regionSigningKeys(region string, priv *rsa.PrivateKey, from time.Time) []*signingKey {
	ld := e.logDeliveryState()
	from = from.UTC().Truncate(time.Hour)
	keys := ld.keys[region]
	if len(keys) == 0 {
		keys = []*signingKey{newSigningKey(priv, from)}
		ld.keys[region] = keys
	}
	if from.Before(keys[0].validFrom) {
		keys[0].validFrom = from
	}
	return keys
}

// keyAt is the key that signs a digest ending at `at`: the newest one
// valid from then or before.
func keyAt(keys []*signingKey, at time.Time) *signingKey {
	k := keys[0]
	for _, n := range keys[1:] {
		if !n.validFrom.After(at) {
			k = n
		}
	}
	return k
}

// SigningKeyFingerprint returns the fingerprint of the key the region
// signs digests with now, generating the key if needed.
func (e *Emulator) SigningKeyFingerprint(region string) (string, error) {
	priv, err := privateKeyFor(region)
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	return keyAt(e.regionSigningKeys(region, priv, now), now).fingerprint, nil
}

// RotateSigningKey gives the region a new signing key from `at` on, as
// CloudTrail rotates its keys: the current key's validity ends at `at`,
// digests ending from then on are signed with the new one, and
// ListPublicKeys lists both for a range that spans `at` ("The returned
// public keys may have validity time ranges that overlap", ListPublicKeys
// reference). The new key is generated at each call, which takes a while.
func (e *Emulator) RotateSigningKey(region string, at time.Time) error {
	priv, err := privateKeyFor(region)
	if err != nil {
		return err
	}
	fresh, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return fmt.Errorf("generate a new %s digest signing key: %w", region, err)
	}
	at = at.UTC().Truncate(time.Second)
	e.mu.Lock()
	defer e.mu.Unlock()
	keys := e.regionSigningKeys(region, priv, at)
	last := keys[len(keys)-1]
	if !at.After(last.validFrom) {
		return fmt.Errorf("rotate the %s signing key at %s: the current key is valid only from %s; rotate after that", region, at.Format(time.RFC3339), last.validFrom.Format(time.RFC3339))
	}
	last.validEnd = at
	e.delivery.keys[region] = append(keys, newSigningKey(fresh, at))
	return nil
}

type publicKeyOut struct {
	Value             []byte   `json:"Value"` // base64 in JSON, as a blob is
	ValidityStartTime *float64 `json:"ValidityStartTime"`
	ValidityEndTime   *float64 `json:"ValidityEndTime"`
	Fingerprint       string   `json:"Fingerprint"`
}

// listPublicKeys serves ListPublicKeys: the request region's keys whose
// validity overlaps StartTime–EndTime (each "the current time" when
// absent, per the reference), InvalidTimeRangeException when the start
// is after the end. NextToken is "reserved for future use": with one key
// per region there is never a second page.
func (e *Emulator) listPublicKeys(c *call, body []byte) (any, *apiError) {
	var in struct {
		StartTime *float64 `json:"StartTime"`
		EndTime   *float64 `json:"EndTime"`
		NextToken *string  `json:"NextToken"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	priv, err := privateKeyFor(c.region)
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, "InternalFailure", "%v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	start, end := now, now
	if in.StartTime != nil {
		start = fromEpoch(*in.StartTime)
	}
	if in.EndTime != nil {
		end = fromEpoch(*in.EndTime)
	}
	if start.After(end) {
		return nil, errorf(http.StatusBadRequest, "InvalidTimeRangeException", "Start time must be before end time.")
	}
	out := struct {
		PublicKeyList []publicKeyOut `json:"PublicKeyList"`
	}{PublicKeyList: []publicKeyOut{}}
	keys := e.regionSigningKeys(c.region, priv, now)
	for i := len(keys) - 1; i >= 0; i-- { // newest first
		k := keys[i]
		if !end.Before(k.validFrom) && !start.After(k.validEnd) {
			out.PublicKeyList = append(out.PublicKeyList, publicKeyOut{Value: k.der, ValidityStartTime: epoch(k.validFrom),
				ValidityEndTime: epoch(k.validEnd), Fingerprint: k.fingerprint})
		}
	}
	return out, nil
}

// logDelivery is the emulator's CloudTrail delivery state: the signing
// keys by region and the delivery streams (delivery.go).
type logDelivery struct {
	keys    map[string][]*signingKey // by region, oldest first
	streams map[streamID]*deliveryStream
	// lastDigest is when each trail (by ARN) last delivered a digest.
	lastDigest map[string]time.Time
}

// logDeliveryState returns the delivery state, set up on first use.
// Called with e.mu held.
func (e *Emulator) logDeliveryState() *logDelivery {
	if e.delivery == nil {
		e.delivery = &logDelivery{keys: map[string][]*signingKey{}, streams: map[streamID]*deliveryStream{}, lastDigest: map[string]time.Time{}}
	}
	return e.delivery
}
