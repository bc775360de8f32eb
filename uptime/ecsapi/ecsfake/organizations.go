package ecsfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// AWS Organizations, as the fake serves it: the awsJson1.1 protocol, as
// ECS (POST /, X-Amz-Target AWSOrganizationsV20161128.<Operation>, JSON
// bodies, timestamps as epoch seconds, errors as {"__type", "Message"}).
// Only the management account, Account, may list the accounts.

// OrganizationsTarget is the prefix of the X-Amz-Target header of every
// Organizations operation.
const OrganizationsTarget = "AWSOrganizationsV20161128."

// ListAccounts is the Organizations operation the fake serves.
const ListAccounts = "ListAccounts"

// maxAccountsPage is ListAccounts' largest page, and its default.
const maxAccountsPage = 20

type listAccountsInput struct {
	MaxResults *int    `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

type orgAccount struct {
	ID              string `json:"Id"`
	Arn             string `json:"Arn"`
	Email           string `json:"Email"`
	Name            string `json:"Name"`
	Status          string `json:"Status"`
	State           string `json:"State"`
	JoinedMethod    string `json:"JoinedMethod"`
	JoinedTimestamp epoch  `json:"JoinedTimestamp"`
}

type listAccountsOutput struct {
	Accounts  []orgAccount `json:"Accounts"`
	NextToken *string      `json:"NextToken,omitempty"`
}

// joined is when every account joined the fake's organization.
var joined = time.Date(2024, 2, 1, 9, 30, 0, 0, time.UTC)

func (s *Server) serveOrganizations(w http.ResponseWriter, r *http.Request, at time.Time) {
	req := Request{Service: "organizations", At: at}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), OrganizationsTarget)
	req.Op = op
	if scope := credentialScope(r); len(scope) == 5 {
		req.Region = scope[2]
	}
	var pre *apiError
	var in listAccountsInput
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/" || !ok || op != ListAccounts:
		pre = &apiError{http.StatusBadRequest, "UnknownOperationException", "the fake serves only " + OrganizationsTarget + ListAccounts}
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		pre = &apiError{http.StatusBadRequest, "SerializationException", "want Content-Type application/x-amz-json-1.1"}
	}
	if pre == nil {
		req.Account, pre = s.ecsCaller(r, at)
	}
	if pre == nil {
		pre = jsonBody(r, &in, "SerializationException")
	}
	out, aerr := s.answer(req, pre, func() (any, *apiError) { return s.listAccounts(req.Account, &in) })

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", requestID(at, req))
	if aerr != nil {
		w.WriteHeader(aerr.status)
		json.NewEncoder(w).Encode(map[string]string{"__type": aerr.code, "Message": aerr.message})
		return
	}
	json.NewEncoder(w).Encode(out)
}

// listAccounts lists every account of the organization, by ID. s.mu is
// held.
func (s *Server) listAccounts(caller string, in *listAccountsInput) (any, *apiError) {
	if caller != Account {
		return nil, &apiError{http.StatusBadRequest, AccessDenied, "You don't have permissions to access this resource."}
	}
	size := maxAccountsPage
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxAccountsPage {
			return nil, &apiError{http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern."}
		}
		size = *in.MaxResults
	}
	ids := make([]string, 0, len(s.members))
	for id := range s.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	page, next, ok := cutPage(ids, size, in.NextToken, "accounts")
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "InvalidInputException", "The NextToken is invalid."}
	}
	out := listAccountsOutput{Accounts: make([]orgAccount, 0, len(page)), NextToken: next}
	for _, id := range page {
		m := s.members[id]
		method := "INVITED"
		if id == Account {
			method = "CREATED"
		}
		out.Accounts = append(out.Accounts, orgAccount{
			ID: id, Arn: "arn:" + partition + ":organizations::" + Account + ":account/" + organizationID + "/" + id,
			Email: m.Name + "@example.com", Name: m.Name, Status: m.Status, State: m.Status,
			JoinedMethod: method, JoinedTimestamp: epoch(joined),
		})
	}
	return out, nil
}
