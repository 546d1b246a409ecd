package awsemu

import (
	"net/http"
	"strings"
)

const maxTagsPerTrail = 50

func checkTags(existing, add []tag) *apiError {
	for _, tg := range add {
		if len(tg.Key) < 1 || len(tg.Key) > 128 || len(tg.Value) > 256 || strings.HasPrefix(tg.Key, "aws:") {
			return errorf(http.StatusBadRequest, "InvalidTagParameterException", "Tag key %q or its value is not valid.", tg.Key)
		}
	}
	if len(mergeTags(existing, add)) > maxTagsPerTrail {
		return errorf(http.StatusBadRequest, "TagsLimitExceededException", "A trail can have at most %d tags.", maxTagsPerTrail)
	}
	return nil
}

func mergeTags(existing, add []tag) []tag {
	out := append([]tag{}, existing...)
	for _, tg := range add {
		replaced := false
		for i := range out {
			if out[i].Key == tg.Key {
				out[i].Value, replaced = tg.Value, true
			}
		}
		if !replaced {
			out = append(out, tg)
		}
	}
	return out
}

type tagsIn struct {
	ResourceId *string
	TagsList   []tag
}

func (e *Emulator) addTags(c *call, body []byte) (any, *apiError) {
	return e.editTags(c, body, func(t *trail, tags []tag) *apiError {
		if err := checkTags(t.tags, tags); err != nil {
			return err
		}
		t.tags = mergeTags(t.tags, tags)
		return nil
	})
}

func (e *Emulator) removeTags(c *call, body []byte) (any, *apiError) {
	return e.editTags(c, body, func(t *trail, tags []tag) *apiError {
		var kept []tag
		for _, tg := range t.tags {
			drop := false
			for _, r := range tags {
				drop = drop || r.Key == tg.Key
			}
			if !drop {
				kept = append(kept, tg)
			}
		}
		t.tags = kept
		return nil
	})
}

// editTags decodes an AddTags or RemoveTags request, finds the trail it
// names (a change: home region only) and applies edit under the lock.
func (e *Emulator) editTags(c *call, body []byte, edit func(*trail, []tag) *apiError) (any, *apiError) {
	var in tagsIn
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.ResourceId == nil {
		return nil, required("resourceId")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrailResource(c, *in.ResourceId, mutate)
	if err != nil {
		return nil, err
	}
	if err := edit(t, in.TagsList); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (e *Emulator) listTags(c *call, body []byte) (any, *apiError) {
	var in struct {
		ResourceIdList []string
		NextToken      *string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.ResourceIdList == nil {
		return nil, required("resourceIdList")
	}
	if len(in.ResourceIdList) > 20 {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterException", "ResourceIdList can name at most 20 resources.")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	type resourceTag struct {
		ResourceId string `json:"ResourceId"`
		TagsList   []tag  `json:"TagsList"`
	}
	out := struct {
		ResourceTagList []resourceTag `json:"ResourceTagList"`
	}{ResourceTagList: []resourceTag{}}
	for _, id := range in.ResourceIdList {
		t, err := e.findTrailResource(c, id, read)
		if err != nil {
			return nil, err
		}
		out.ResourceTagList = append(out.ResourceTagList, resourceTag{t.arn, append([]tag{}, t.tags...)})
	}
	return out, nil
}

// findTrailResource resolves the ResourceId of the tagging operations,
// which must be a trail ARN. Called with e.mu held.
func (e *Emulator) findTrailResource(c *call, id string, a access) (*trail, *apiError) {
	if !strings.HasPrefix(id, "arn:") {
		return nil, errorf(http.StatusBadRequest, "CloudTrailARNInvalidException", "%s is not a valid trail ARN.", id)
	}
	t, err := e.findTrail(c, id, a)
	if err != nil && err.Code == "TrailNotFoundException" {
		return nil, errorf(http.StatusBadRequest, "ResourceNotFoundException", "Resource %s not found.", id)
	}
	return t, err
}
