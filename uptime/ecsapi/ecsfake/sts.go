package ecsfake

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AWS STS, as the fake serves it: the awsQuery protocol (POST / with a
// form-encoded body: Action=…&Version=2011-06-15&…; answers in XML,
// <OpResponse><OpResult>…</OpResult><ResponseMetadata>… and errors as
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>).

// STS operations the fake serves.
const (
	AssumeRole        = "AssumeRole"
	GetCallerIdentity = "GetCallerIdentity"
)

// stsVersion is the API version every STS call names.
const stsVersion = "2011-06-15"

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// maxSession is the longest session a role gives (IAM's default
// MaxSessionDuration), and defaultSession what AssumeRole gives when the
// call names no DurationSeconds.
const (
	maxSession     = time.Hour
	minSession     = 15 * time.Minute
	defaultSession = time.Hour
)

type stsMetadata struct {
	RequestID string `xml:"RequestId"`
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		AssumedRoleUser struct {
			Arn           string
			AssumedRoleID string `xml:"AssumedRoleId"`
		}
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		PackedPolicySize int
	} `xml:"AssumeRoleResult"`
	Metadata stsMetadata `xml:"ResponseMetadata"`
}

type callerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	} `xml:"GetCallerIdentityResult"`
	Metadata stsMetadata `xml:"ResponseMetadata"`
}

type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

// STS's error codes.
const (
	stsAccessDenied = "AccessDenied"
	stsValidation   = "ValidationError"
	stsInvalidToken = "InvalidClientTokenId"
	stsExpiredToken = "ExpiredToken"
)

func stsError(status int, code, msg string) *apiError { return &apiError{status, code, msg} }

func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, at time.Time) {
	req := Request{Service: "sts", At: at}
	form, pre := parseQuery(r)
	req.Op = form.Get("Action")
	if scope := credentialScope(r); len(scope) == 5 {
		req.Region = scope[2]
	}
	account, refused := s.caller(r, at)
	req.Account = account
	switch {
	case pre != nil:
	case refused == credsInvalid:
		pre = stsError(http.StatusForbidden, stsInvalidToken, "The security token included in the request is invalid.")
	case refused == credsExpired:
		pre = stsError(http.StatusBadRequest, stsExpiredToken, "The security token included in the request is expired")
	case req.Op != AssumeRole && req.Op != GetCallerIdentity:
		pre = stsError(http.StatusBadRequest, "InvalidAction", "Could not find operation "+req.Op+" for version "+stsVersion)
	}
	var in assumeRoleInput
	if pre == nil && req.Op == AssumeRole {
		in, pre = parseAssumeRole(form)
		req.Account = in.account // the call acts in the role's account
	}
	noted, aerr := s.note(req, pre)

	var out any
	s.mu.Lock()
	if aerr == nil {
		if req.Op == AssumeRole {
			out, aerr = s.assumeRole(account, in, at)
		} else {
			resp := &callerIdentityResponse{Xmlns: stsNamespace}
			resp.Result.Account, resp.Result.Arn = account, s.principal(account)
			resp.Result.UserID = "AIDAECSFAKE" + account
			if account != Account {
				resp.Result.UserID = "AROAECSFAKE" + account + ":ecs-uptime"
			}
			out = resp
		}
	}
	if aerr != nil {
		noted.Error = aerr.code
		if req.Op == AssumeRole {
			s.assumed = append(s.assumed, in.call(at, aerr.code, time.Time{}))
		}
	}
	s.mu.Unlock()

	id := requestID(at, req)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", id)
	if aerr != nil {
		if aerr.code == stsAccessDenied || aerr.code == stsInvalidToken {
			aerr.status = http.StatusForbidden
		}
		e := stsErrorResponse{Xmlns: stsNamespace, RequestID: id}
		e.Error.Type, e.Error.Code, e.Error.Message = "Sender", aerr.code, aerr.message
		if aerr.status >= 500 {
			e.Error.Type = "Receiver"
		}
		w.WriteHeader(aerr.status)
		writeXML(w, e)
		return
	}
	switch o := out.(type) {
	case *assumeRoleResponse:
		o.Metadata.RequestID = id
	case *callerIdentityResponse:
		o.Metadata.RequestID = id
	}
	writeXML(w, out)
}

func writeXML(w io.Writer, v any) {
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(v)
}

// parseQuery checks an awsQuery request's shape and returns its form.
func parseQuery(r *http.Request) (url.Values, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return url.Values{}, stsError(http.StatusBadRequest, "InvalidAction", "want POST / with a form-encoded body")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return url.Values{}, stsError(http.StatusBadRequest, "InvalidParameterValue", "Content-Type "+ct+": want application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return url.Values{}, stsError(http.StatusBadRequest, "InvalidParameterValue", err.Error())
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return url.Values{}, stsError(http.StatusBadRequest, "MalformedQueryString", err.Error())
	}
	if v := form.Get("Version"); v != stsVersion {
		return form, stsError(http.StatusBadRequest, "InvalidAction", "Version "+v+": want "+stsVersion)
	}
	return form, nil
}

// assumeRoleInput is an AssumeRole call's parameters.
type assumeRoleInput struct {
	roleARN, account, roleName, session, externalID string
	duration                                        time.Duration
}

func (in assumeRoleInput) call(at time.Time, code string, expires time.Time) AssumeRoleCall {
	return AssumeRoleCall{Account: in.account, RoleARN: in.roleARN, SessionName: in.session, ExternalID: in.externalID,
		Duration: in.duration, Expires: expires, At: at, Error: code}
}

func roleARN(account, name string) string {
	return "arn:" + partition + ":iam::" + account + ":role/" + name
}

// parseAssumeRole checks AssumeRole's parameters as STS does.
func parseAssumeRole(form url.Values) (assumeRoleInput, *apiError) {
	in := assumeRoleInput{roleARN: form.Get("RoleArn"), session: form.Get("RoleSessionName"), externalID: form.Get("ExternalId")}
	f := strings.SplitN(in.roleARN, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] != partition || f[2] != "iam" || f[3] != "" || len(f[4]) != 12 || !strings.HasPrefix(f[5], "role/") || len(f[5]) == len("role/") {
		return in, stsError(http.StatusBadRequest, stsValidation, "RoleArn "+in.roleARN+": want arn:aws:iam::ACCOUNT:role/NAME")
	}
	in.account, in.roleName = f[4], strings.TrimPrefix(f[5], "role/")
	if n := len(in.session); n < 2 || n > 64 || strings.Trim(in.session, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-") != "" {
		return in, stsError(http.StatusBadRequest, stsValidation, "1 validation error detected: Value '"+in.session+"' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	if _, set := form["ExternalId"]; set && (len(in.externalID) < 2 || len(in.externalID) > 1224) {
		return in, stsError(http.StatusBadRequest, stsValidation, "1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224")
	}
	if d := form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || time.Duration(n)*time.Second < minSession || n > 43200 {
			return in, stsError(http.StatusBadRequest, stsValidation, "1 validation error detected: Value '"+d+"' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200")
		}
		in.duration = time.Duration(n) * time.Second
	}
	return in, nil
}

// assumeRole issues a session of the role, or refuses it as IAM would: only
// Account's own credentials may assume a member's role (its trust policy
// trusts the scanner alone), the role must exist in an ACTIVE account, and
// the external ID must be the one its trust policy requires. s.mu is held.
func (s *Server) assumeRole(caller string, in assumeRoleInput, at time.Time) (any, *apiError) {
	m := s.members[in.account]
	denied := caller != Account || m == nil || m.ID == Account || m.Status != "ACTIVE" || m.Role != in.roleName ||
		m.ExternalID != "" && m.ExternalID != in.externalID
	if denied {
		msg := "User: " + s.principal(caller) + " is not authorized to perform: sts:AssumeRole on resource: " + in.roleARN
		return nil, stsError(http.StatusForbidden, stsAccessDenied, msg)
	}
	d := in.duration
	if d == 0 {
		d = defaultSession
	}
	if d > maxSession {
		return nil, stsError(http.StatusBadRequest, stsValidation, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if s.lifetime > 0 && s.lifetime < d {
		d = s.lifetime
	}
	expires := at.Add(d).Truncate(time.Second)
	keyID, secret, sess := s.issue(in.account, in.roleARN, expires)
	s.assumed = append(s.assumed, in.call(at, "", expires))
	out := &assumeRoleResponse{Xmlns: stsNamespace}
	out.Result.AssumedRoleUser.Arn = "arn:" + partition + ":sts::" + in.account + ":assumed-role/" + in.roleName + "/" + in.session
	out.Result.AssumedRoleUser.AssumedRoleID = "AROAECSFAKE" + in.account + ":" + in.session
	out.Result.Credentials.AccessKeyID, out.Result.Credentials.SecretAccessKey = keyID, secret
	out.Result.Credentials.SessionToken = sess.token
	out.Result.Credentials.Expiration = expires.UTC().Format(time.RFC3339)
	return out, nil
}
