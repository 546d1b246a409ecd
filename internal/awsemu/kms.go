package awsemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// kmsTargetPrefix is the JSON 1.1 target prefix of the KMS API.
const kmsTargetPrefix = "TrentService."

// KMS serves what a trail encrypted with SSE-KMS needs: keys with policies
// and rotation, and aliases. CloudTrail checks a trail's key against them.
var kmsService = &service{
	operation: func(r *http.Request, _ []byte) string {
		op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), kmsTargetPrefix)
		return op
	},
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeJSONError(w, c.reqID, err)
	},
	serve:      (*Emulator).serveKMS,
	invalidKey: apiError{Status: http.StatusBadRequest, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
	expired:    apiError{Status: http.StatusBadRequest, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"},
	throttled:  apiError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"},
}

type kmsKey struct {
	id, arn, account, region string
	description, policy      string
	rotation                 bool
	created                  time.Time
}

type kmsKeyMetadata struct {
	AWSAccountId string  `json:"AWSAccountId"`
	KeyId        string  `json:"KeyId"`
	Arn          string  `json:"Arn"`
	CreationDate float64 `json:"CreationDate"`
	Enabled      bool    `json:"Enabled"`
	Description  string  `json:"Description"`
	KeyUsage     string  `json:"KeyUsage"`
	KeyState     string  `json:"KeyState"`
	KeySpec      string  `json:"KeySpec"`
	KeyManager   string  `json:"KeyManager"`
	Origin       string  `json:"Origin"`
}

func (k *kmsKey) metadata() kmsKeyMetadata {
	return kmsKeyMetadata{AWSAccountId: k.account, KeyId: k.id, Arn: k.arn, CreationDate: float64(k.created.Unix()), Enabled: true,
		Description: k.description, KeyUsage: "ENCRYPT_DECRYPT", KeyState: "Enabled", KeySpec: "SYMMETRIC_DEFAULT", KeyManager: "CUSTOMER", Origin: "AWS_KMS"}
}

func (e *Emulator) serveKMS(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	var in struct {
		KeyId, Policy, PolicyName, Description, AliasName, TargetKeyId *string
	}
	if err := decodeJSON(body, &in); err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kmsKeys == nil {
		e.kmsKeys, e.kmsAliases = map[string]*kmsKey{}, map[string]string{}
	}
	var out any
	var err *apiError
	switch c.op {
	case "CreateKey":
		policy := str(in.Policy)
		if policy == "" {
			policy = fmt.Sprintf(`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"}]}`, c.account())
		} else if !json.Valid([]byte(policy)) {
			err = errorf(http.StatusBadRequest, "MalformedPolicyDocumentException", "The key policy is not valid JSON")
			break
		}
		id := fmt.Sprintf("%s-%s-%s-%s-%s", randomID(8), randomID(4), randomID(4), randomID(4), randomID(12))
		id = strings.ToLower(id)
		k := &kmsKey{id: id, arn: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", c.region, c.account(), id), account: c.account(), region: c.region,
			description: str(in.Description), policy: policy, created: e.now()}
		e.kmsKeys[k.arn] = k
		out = map[string]any{"KeyMetadata": k.metadata()}
	case "DescribeKey", "GetKeyPolicy", "PutKeyPolicy", "EnableKeyRotation", "GetKeyRotationStatus":
		k := e.findKey(c.account(), c.region, str(in.KeyId))
		if k == nil {
			err = errorf(http.StatusBadRequest, "NotFoundException", "Key '%s' does not exist", str(in.KeyId))
			break
		}
		switch c.op {
		case "DescribeKey":
			out = map[string]any{"KeyMetadata": k.metadata()}
		case "GetKeyPolicy":
			out = map[string]any{"Policy": k.policy, "PolicyName": "default"}
		case "PutKeyPolicy":
			if !json.Valid([]byte(str(in.Policy))) {
				err = errorf(http.StatusBadRequest, "MalformedPolicyDocumentException", "The key policy is not valid JSON")
				break
			}
			k.policy = str(in.Policy)
			out = struct{}{}
		case "EnableKeyRotation":
			k.rotation = true
			out = struct{}{}
		case "GetKeyRotationStatus":
			out = map[string]any{"KeyRotationEnabled": k.rotation}
		}
	case "CreateAlias":
		name := str(in.AliasName)
		if !strings.HasPrefix(name, "alias/") || strings.HasPrefix(name, "alias/aws/") {
			err = errorf(http.StatusBadRequest, "ValidationException", "Alias %s must begin with alias/ and not with alias/aws/", name)
			break
		}
		arn := fmt.Sprintf("arn:aws:kms:%s:%s:%s", c.region, c.account(), name)
		if _, taken := e.kmsAliases[arn]; taken {
			err = errorf(http.StatusBadRequest, "AlreadyExistsException", "An alias with the name %s already exists", arn)
			break
		}
		k := e.findKey(c.account(), c.region, str(in.TargetKeyId))
		if k == nil {
			err = errorf(http.StatusBadRequest, "NotFoundException", "Key '%s' does not exist", str(in.TargetKeyId))
			break
		}
		e.kmsAliases[arn] = k.arn
		out = struct{}{}
	case "ListAliases":
		type alias struct{ AliasName, AliasArn, TargetKeyId string }
		list := []alias{}
		for arn, target := range e.kmsAliases {
			if strings.HasPrefix(arn, fmt.Sprintf("arn:aws:kms:%s:%s:", c.region, c.account())) {
				list = append(list, alias{AliasName: arn[strings.Index(arn, ":alias/")+1:], AliasArn: arn, TargetKeyId: e.kmsKeys[target].id})
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].AliasArn < list[j].AliasArn })
		out = map[string]any{"Aliases": list}
	default:
		err = errorf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", c.op)
	}
	if err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	writeJSON(w, c.reqID, out)
}

// findKey resolves a key id, key ARN, alias name or alias ARN in an
// account and region. Called with e.mu held.
func (e *Emulator) findKey(account, region, id string) *kmsKey {
	arn := id
	switch {
	case strings.HasPrefix(id, "arn:"):
	case strings.HasPrefix(id, "alias/"):
		arn = fmt.Sprintf("arn:aws:kms:%s:%s:%s", region, account, id)
	default:
		arn = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, account, id)
	}
	if target, ok := e.kmsAliases[arn]; ok {
		arn = target
	}
	return e.kmsKeys[arn]
}

// checkTrailKey applies what CloudTrail checks of a trail's KMS key: it
// exists in the trail's region (KmsKeyNotFoundException) and its policy
// lets cloudtrail.amazonaws.com generate data keys for this trail
// (InsufficientEncryptionPolicyException). Called with e.mu held.
func (e *Emulator) checkTrailKey(t *trail) *apiError {
	if t.kmsKey == "" {
		return nil
	}
	k := e.findKey(t.account, t.home, t.kmsKey)
	if k == nil || k.region != t.home {
		return errorf(http.StatusBadRequest, "KmsKeyNotFoundException", "KMS key %s not found in %s.", t.kmsKey, t.home)
	}
	if !parseBucketPolicy(k.policy).allows("kms:GenerateDataKey", k.arn, t) {
		return errorf(http.StatusBadRequest, "InsufficientEncryptionPolicyException", "Insufficient permissions to access S3 bucket %s or KMS key %s.", t.bucket, k.arn)
	}
	return nil
}
