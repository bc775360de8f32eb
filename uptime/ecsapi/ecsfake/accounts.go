package ecsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The accounts of the fake: Account, whose static credentials Environ
// gives and which is the management account of an organization, and the
// member accounts a test adds with AddAccount. A request acts in the
// account of its credentials: Account's, or those of a session that
// AssumeRole issued for a member's role (sts.go).

// Member is an account of the fake's organization (see AddAccount).
type Member struct {
	ID   string // 12 digits, required
	Name string // default "account-" + ID
	// Status is ACTIVE (the default), SUSPENDED or PENDING_CLOSURE, as
	// ListAccounts gives it (in both Status and State).
	Status string
	// Role is the name of the role in the account that Account's
	// credentials may assume; default "ecs-uptime".
	Role string
	// ExternalID is the external ID the role's trust policy requires;
	// "" requires none (a call that gives one is still allowed, as IAM
	// ignores a condition it does not have).
	ExternalID string
}

// Region is one region of an account, as ListRegions gives it. Status is
// its RegionOptStatus: ENABLED_BY_DEFAULT, ENABLED, ENABLING, DISABLING or
// DISABLED.
type Region struct{ Name, Status string }

// Region opt statuses.
const (
	RegionEnabledByDefault = "ENABLED_BY_DEFAULT"
	RegionEnabled          = "ENABLED"
	RegionDisabled         = "DISABLED"
)

// DefaultRegions are the regions ListRegions gives for an account the test
// gave none with SetRegions: a few enabled by default, two opt-in regions
// disabled.
var DefaultRegions = []Region{
	{"ap-southeast-2", RegionEnabledByDefault}, {"eu-west-1", RegionEnabledByDefault},
	{"us-east-1", RegionEnabledByDefault}, {"us-west-2", RegionEnabledByDefault},
	{"af-south-1", RegionDisabled}, {"me-south-1", RegionDisabled},
}

// Partition and organization of every ARN the fake makes.
const (
	partition      = "aws"
	organizationID = "o-ecsfake0001"
)

// CallerARN is the ARN GetCallerIdentity gives for Environ's credentials.
const CallerARN = "arn:aws:iam::" + Account + ":user/ecs-uptime"

// orgs is the fake's state beyond ECS. Server.mu guards it.
type orgs struct {
	members  map[string]*Member  // by ID; Account is always one
	regions  map[string][]Region // by account; none: DefaultRegions
	sessions map[string]*session // by access key ID
	lifetime time.Duration       // the longest session AssumeRole issues; 0: as asked
	assumed  []AssumeRoleCall
	keys     int // sessions issued, for their key IDs
}

// session is one set of temporary credentials AssumeRole issued.
type session struct {
	account, arn, token string
	expires             time.Time
}

func newOrgs() orgs {
	return orgs{
		members:  map[string]*Member{Account: {ID: Account, Name: "management", Status: "ACTIVE"}},
		regions:  map[string][]Region{},
		sessions: map[string]*session{},
	}
}

// AssumeRoleCall is one AssumeRole call the fake received.
type AssumeRoleCall struct {
	Account     string // the account of the role
	RoleARN     string
	SessionName string
	ExternalID  string
	Duration    time.Duration // DurationSeconds as asked (0: not given)
	Expires     time.Time     // of the credentials issued; zero when refused
	At          time.Time
	Error       string // the error code answered, "" when issued
}

// AddAccount adds a member account to the organization (replacing one of
// the same ID). It panics on an ID that is not 12 digits or an unknown
// Status: those are mistakes in the test.
func (s *Server) AddAccount(m Member) {
	if len(m.ID) != 12 || strings.Trim(m.ID, "0123456789") != "" {
		panic("ecsfake: account ID " + m.ID + ": want 12 digits")
	}
	switch m.Status {
	case "":
		m.Status = "ACTIVE"
	case "ACTIVE", "SUSPENDED", "PENDING_CLOSURE":
	default:
		panic("ecsfake: account status " + m.Status + ": want ACTIVE, SUSPENDED or PENDING_CLOSURE")
	}
	if m.Name == "" {
		m.Name = "account-" + m.ID
	}
	if m.Role == "" {
		m.Role = "ecs-uptime"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[m.ID] = &m
}

// SetRegions sets the regions ListRegions gives for account, and which of
// them accept calls: an ECS call in a region listed as DISABLED, ENABLING
// or DISABLING is refused as AWS refuses it (UnrecognizedClientException:
// the account's credentials are not valid there). Regions not listed
// accept calls.
func (s *Server) SetRegions(account string, regions ...Region) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regions[account] = slices.Clone(regions)
}

// SetSessionLifetime makes every session AssumeRole issues from now on
// last at most d (0: as long as the call asks), so that a test sees
// credentials expire and renewed in seconds. AWS itself refuses a
// DurationSeconds above the role's maximum; this is a test's shortcut.
func (s *Server) SetSessionLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// AssumeRoles returns every AssumeRole call received since the last Reset.
func (s *Server) AssumeRoles() []AssumeRoleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.assumed)
}

// regionsOf returns the regions of account. s.mu is held.
func (s *Server) regionsOf(account string) []Region {
	if r, ok := s.regions[account]; ok {
		return r
	}
	return DefaultRegions
}

// regionDisabled refuses an ECS call in a region the account has not
// enabled. s.mu is held.
func (s *Server) regionDisabled(account, region string) *apiError {
	r, ok := s.regions[account]
	if !ok {
		return nil
	}
	i := slices.IndexFunc(r, func(r Region) bool { return r.Name == region })
	if i < 0 || r[i].Status == RegionEnabled || r[i].Status == RegionEnabledByDefault {
		return nil
	}
	return &apiError{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
}

// signingService returns the service a request's SigV4 signature is
// scoped to: ecs, sts, organizations, account; "" for none.
func signingService(r *http.Request) string {
	scope := credentialScope(r)
	if len(scope) != 5 {
		return ""
	}
	return scope[3]
}

// credentialScope returns AKID/DATE/REGION/SERVICE/aws4_request of the
// request's SigV4 Authorization header, split.
func credentialScope(r *http.Request) []string {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return nil
	}
	_, cred, _ := strings.Cut(auth, "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	return strings.Split(cred, "/")
}

// Why a request's credentials are refused.
const (
	credsOK = iota
	credsInvalid
	credsExpired
)

// caller returns the account whose credentials signed the request, or why
// they are refused: an access key the fake never issued, a session token
// that is not the session's, a session past its expiry.
func (s *Server) caller(r *http.Request, at time.Time) (account string, refused int) {
	scope := credentialScope(r)
	if len(scope) != 5 {
		return "", credsInvalid
	}
	if scope[0] == AccessKeyID {
		return Account, credsOK
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[scope[0]]
	switch {
	case sess == nil || r.Header.Get("X-Amz-Security-Token") != sess.token:
		return "", credsInvalid
	case !at.Before(sess.expires):
		return sess.account, credsExpired
	}
	return sess.account, credsOK
}

// ecsCaller is caller with ECS's (and Organizations') answers.
func (s *Server) ecsCaller(r *http.Request, at time.Time) (string, *apiError) {
	account, refused := s.caller(r, at)
	switch refused {
	case credsInvalid:
		return account, &apiError{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
	case credsExpired:
		return account, &apiError{http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired"}
	}
	return account, nil
}

// principal is the ARN of the identity that signs for account: Environ's
// user in Account, the role's session elsewhere.
func (s *Server) principal(account string) string {
	if account == Account {
		return CallerARN
	}
	role := "ecs-uptime"
	if m := s.members[account]; m != nil {
		role = m.Role
	}
	return "arn:" + partition + ":sts::" + account + ":assumed-role/" + role + "/ecs-uptime"
}

// deniedMessage is the message of an AccessDenied answer to req, as IAM
// words it. s.mu is held.
func (s *Server) deniedMessage(req Request, resource string) string {
	action := req.Service + ":" + req.Op
	if resource == "" {
		switch {
		case req.Service == "ecs" && req.Op != ListClusters:
			resource = AccountClusterARN(req.Account, req.Region, req.Cluster)
		case req.Op == AssumeRole:
			resource = roleARN(req.Account, "ecs-uptime")
			if m := s.members[req.Account]; m != nil {
				resource = roleARN(req.Account, m.Role)
			}
		default:
			resource = "*"
		}
	}
	who := s.principal(req.Account)
	if req.Op == AssumeRole {
		who = CallerARN
	}
	return "User: " + who + " is not authorized to perform: " + action + " on resource: " + resource + " because no identity-based policy allows the " + action + " action"
}

// issue makes a session of role in account that expires at expires.
// s.mu is held.
func (s *Server) issue(account, roleARN string, expires time.Time) (keyID, secret string, sess *session) {
	s.keys++
	keyID = fmt.Sprintf("ASIAECSFAKE%09d", s.keys)
	sum := sha256.Sum256([]byte(keyID + roleARN))
	secret = hex.EncodeToString(sum[:20])
	sess = &session{account: account, arn: roleARN, token: "FwoGZXIvYXdzE" + hex.EncodeToString(sum[20:]), expires: expires}
	s.sessions[keyID] = sess
	return keyID, secret, sess
}

// note records a request of a service other than ECS, answers the fault
// injected for it if any, and calls the BeforeServe hook; pre is an error
// found before (protocol, credentials), answered instead. The returned
// request is the one recorded: set its Error once the call is answered,
// under s.mu.
func (s *Server) note(req Request, pre *apiError) (*Request, *apiError) {
	s.mu.Lock()
	aerr := pre
	if aerr == nil {
		aerr = s.fault(req, "")
	}
	if aerr != nil {
		req.Error = aerr.code
	}
	noted := &req
	s.requests = append(s.requests, noted)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(req)
	}
	return noted, aerr
}

// jsonBody reads a JSON call's body into in (an empty body reads as {}),
// and refuses one that does not decode with code.
func jsonBody(r *http.Request, in any, code string) *apiError {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, in); err != nil {
		return &apiError{http.StatusBadRequest, code, err.Error()}
	}
	return nil
}

// answer notes a call of a service other than ECS (note), runs op with
// s.mu held unless the call is refused, and notes op's error on the
// request. It returns op's answer, or why the call fails.
func (s *Server) answer(req Request, pre *apiError, op func() (any, *apiError)) (any, *apiError) {
	noted, aerr := s.note(req, pre)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out any
	if aerr == nil {
		out, aerr = op()
	}
	if aerr != nil {
		noted.Error = aerr.code
	}
	return out, aerr
}
