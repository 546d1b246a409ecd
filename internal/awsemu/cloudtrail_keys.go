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
// window. The emulator holds one 2048-bit pair per region for its whole
// life (AWS rotates them; the emulator does not), valid from before the
// first digest it signed.

// signingKeyBits is the size of the RSA keys CloudTrail signs with.
const signingKeyBits = 2048

// signingKeyLife is how long after its start a key is reported valid.
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
	validFrom   time.Time
}

func newSigningKey(priv *rsa.PrivateKey, from time.Time) *signingKey {
	der := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	sum := md5.Sum(der)
	return &signingKey{priv: priv, der: der, fingerprint: hex.EncodeToString(sum[:]), validFrom: from.UTC().Truncate(time.Hour)}
}

func (k *signingKey) validTo() time.Time { return k.validFrom.Add(signingKeyLife) }

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

// regionSigningKey returns the emulator's key for region, valid from at
// or before from. Called with e.mu held; priv comes from privateKeyFor.
func (e *Emulator) regionSigningKey(region string, priv *rsa.PrivateKey, from time.Time) *signingKey {
	ld := e.logDeliveryState()
	k := ld.keys[region]
	if k == nil {
		k = newSigningKey(priv, from)
		ld.keys[region] = k
	}
	if f := from.UTC().Truncate(time.Hour); f.Before(k.validFrom) {
		k.validFrom = f
	}
	return k
}

// SigningKeyFingerprint returns the fingerprint of the region's digest
// signing key, generating the key if needed.
func (e *Emulator) SigningKeyFingerprint(region string) (string, error) {
	priv, err := privateKeyFor(region)
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.regionSigningKey(region, priv, e.now()).fingerprint, nil
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
	k := e.regionSigningKey(c.region, priv, now)
	out := struct {
		PublicKeyList []publicKeyOut `json:"PublicKeyList"`
	}{PublicKeyList: []publicKeyOut{}}
	if !end.Before(k.validFrom) && !start.After(k.validTo()) {
		out.PublicKeyList = append(out.PublicKeyList, publicKeyOut{Value: k.der, ValidityStartTime: epoch(k.validFrom),
			ValidityEndTime: epoch(k.validTo()), Fingerprint: k.fingerprint})
	}
	return out, nil
}

// logDelivery is the emulator's CloudTrail delivery state: the signing
// keys by region and the delivery streams (delivery.go).
type logDelivery struct {
	keys    map[string]*signingKey
	streams map[streamID]*deliveryStream
	// lastDigest is when each trail (by ARN) last delivered a digest.
	lastDigest map[string]time.Time
}

// logDeliveryState returns the delivery state, set up on first use.
// Called with e.mu held.
func (e *Emulator) logDeliveryState() *logDelivery {
	if e.delivery == nil {
		e.delivery = &logDelivery{keys: map[string]*signingKey{}, streams: map[streamID]*deliveryStream{}, lastDigest: map[string]time.Time{}}
	}
	return e.delivery
}
