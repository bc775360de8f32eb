package ecsfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// AWS Account Management, as the fake serves it: the restJson1 protocol
// (POST /listRegions with a JSON body; errors with their code in the
// X-Amzn-ErrorType header and {"message": …} as body).

// ListRegions is the Account Management operation the fake serves.
const ListRegions = "ListRegions"

// maxRegionsPage is ListRegions' largest page; defaultRegionsPage its
// page when the call names no MaxResults.
const (
	maxRegionsPage     = 50
	defaultRegionsPage = 20
)

type listRegionsInput struct {
	AccountID               *string  `json:"AccountId"`
	MaxResults              *int     `json:"MaxResults"`
	NextToken               *string  `json:"NextToken"`
	RegionOptStatusContains []string `json:"RegionOptStatusContains"`
}

type regionOpt struct {
	RegionName      string `json:"RegionName"`
	RegionOptStatus string `json:"RegionOptStatus"`
}

type listRegionsOutput struct {
	NextToken *string     `json:"NextToken,omitempty"`
	Regions   []regionOpt `json:"Regions"`
}

// statuses ListRegions accepts in RegionOptStatusContains.
var regionStatuses = []string{"ENABLED", "ENABLING", "DISABLING", "DISABLED", "ENABLED_BY_DEFAULT"}

func (s *Server) serveAccount(w http.ResponseWriter, r *http.Request, at time.Time) {
	req := Request{Service: "account", Op: ListRegions, At: at}
	if scope := credentialScope(r); len(scope) == 5 {
		req.Region = scope[2]
	}
	var pre *apiError
	var in listRegionsInput
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/listRegions":
		req.Op = strings.TrimPrefix(r.URL.Path, "/")
		pre = &apiError{http.StatusNotFound, "UnknownOperationException", "the fake serves only POST /listRegions"}
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		pre = &apiError{http.StatusBadRequest, "ValidationException", "want Content-Type application/json"}
	}
	caller, refused := s.caller(r, at)
	req.Account = caller
	if pre == nil {
		switch refused {
		case credsInvalid:
			pre = &apiError{http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."}
		case credsExpired:
			pre = &apiError{http.StatusForbidden, "ExpiredTokenException", "The security token included in the request is expired"}
		}
	}
	if pre == nil {
		pre = jsonBody(r, &in, "ValidationException")
	}
	if in.AccountID != nil {
		req.Account = *in.AccountID // the call acts in that account
	}
	out, aerr := s.answer(req, pre, func() (any, *apiError) { return s.listRegions(caller, &in) })

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID(at, req))
	if aerr != nil {
		if aerr.code == AccessDenied || aerr.code == "UnrecognizedClientException" || aerr.code == "ExpiredTokenException" {
			aerr.status = http.StatusForbidden
		}
		if aerr.code == "TooManyRequestsException" || aerr.code == Throttling {
			aerr.status = http.StatusTooManyRequests
		}
		w.Header().Set("X-Amzn-Errortype", aerr.code)
		w.WriteHeader(aerr.status)
		json.NewEncoder(w).Encode(map[string]string{"message": aerr.message})
		return
	}
	json.NewEncoder(w).Encode(out)
}

// listRegions lists the regions of the caller's account, or of the member
// AccountId names when the caller is the management account (Account),
// which may not name itself. s.mu is held.
func (s *Server) listRegions(caller string, in *listRegionsInput) (any, *apiError) {
	account := caller
	if in.AccountID != nil {
		account = *in.AccountID
		switch {
		case caller != Account:
			return nil, &apiError{http.StatusForbidden, AccessDenied, "User: " + s.principal(caller) + " is not authorized to perform: account:ListRegions on resource: arn:aws:account::" + caller + ":account/" + organizationID + "/" + account}
		case account == Account:
			return nil, &apiError{http.StatusBadRequest, "ValidationException", "The management account can't specify its own AccountId."}
		case s.members[account] == nil:
			return nil, &apiError{http.StatusBadRequest, "ValidationException", "The AccountId is not a member of the organization."}
		}
	}
	for _, st := range in.RegionOptStatusContains {
		if !slices.Contains(regionStatuses, st) {
			return nil, &apiError{http.StatusBadRequest, "ValidationException", "RegionOptStatusContains " + st + ": want one of " + strings.Join(regionStatuses, ", ")}
		}
	}
	size := defaultRegionsPage
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxRegionsPage {
			return nil, &apiError{http.StatusBadRequest, "ValidationException", "MaxResults must be between 1 and 50."}
		}
		size = *in.MaxResults
	}
	var names []string
	status := map[string]string{}
	for _, r := range s.regionsOf(account) {
		if len(in.RegionOptStatusContains) == 0 || slices.Contains(in.RegionOptStatusContains, r.Status) {
			names = append(names, r.Name)
			status[r.Name] = r.Status
		}
	}
	slices.Sort(names)
	page, next, ok := cutPage(names, size, in.NextToken, "regions\x00"+account)
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "ValidationException", "The NextToken is invalid."}
	}
	out := listRegionsOutput{Regions: make([]regionOpt, 0, len(page)), NextToken: next}
	for _, n := range page {
		out.Regions = append(out.Regions, regionOpt{RegionName: n, RegionOptStatus: status[n]})
	}
	return out, nil
}
