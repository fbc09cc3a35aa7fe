package axp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Notification is one Agent & Engagement notification frame: the envelope and
// the body, whose fields depend on Body.Event.
type Notification struct {
	CorrelationID  string           `json:"correlationId"`
	SubscriptionID string           `json:"subscriptionId"`
	Family         string           `json:"family"`
	SentAt         string           `json:"sentAt"`
	AccountID      string           `json:"accountId"`
	LoginID        string           `json:"loginId"`
	Body           NotificationBody `json:"body"`

	// Unknown lists envelope and body field names this decoder does not know
	// (tolerated, counted by the source).
	Unknown []string `json:"-"`
}

// NotificationBody is the union of every documented body's fields.
type NotificationBody struct {
	Event     string `json:"event"`
	ID        string `json:"id"`
	Timestamp Flex   `json:"timestamp"` // ms since epoch; a number or a string on the wire

	AgentID    string `json:"agentId"`
	ProfileID  string `json:"profileId"`
	State      string `json:"state"`
	ReasonCode Flex   `json:"reasonCode"` // a string in the schema, a number in the vendor's example
	Cause      string `json:"cause"`

	EngagementID          string `json:"engagementId"`
	ChannelProviderID     string `json:"channelProviderId"`
	ConnectionID          string `json:"connectionId"`
	Action                string `json:"action"`
	DialogID              string `json:"dialogId"`
	ChannelID             string `json:"channelId"`
	ExternalParticipantID string `json:"externalParticipantId"`
	CallingNumber         string `json:"callingNumber"`

	Queue *struct {
		QueueID   Flex `json:"queueId"` // documented as both string and integer
		QueueName Flex `json:"queueName"`
	} `json:"queue"`

	MatchID               string `json:"matchId"`
	OfferedQueue          *offer `json:"offeredQueue"`
	OfferedService        *offer `json:"offeredService"`
	OfferedSpecifiedAgent *struct {
		Data *offeredAgent `json:"offeredSpecifiedAgentData"`
	} `json:"offeredSpecifiedAgent"`

	InitiatingAgentID string `json:"initiatingAgentId"`
	TransferTo        string `json:"transferTo"`
	Destination       string `json:"destination"`
	QueueID           string `json:"queueId"`
	QueueName         string `json:"queueName"`
	CorrelationID     string `json:"correlationId"`
	ErrorType         string `json:"errorType"`
	Title             string `json:"title"`
	Detail            string `json:"detail"`
}

type offer struct {
	QueueID   Flex          `json:"queueId"`
	AgentData *offeredAgent `json:"offeredAgentData"`
}

type offeredAgent struct {
	AgentID string `json:"agentId"`
}

// OfferedAgent returns the agent a MatchOffered names, wherever it is.
func (b *NotificationBody) OfferedAgent() string {
	for _, o := range []*offer{b.OfferedQueue, b.OfferedService} {
		if o != nil && o.AgentData != nil && o.AgentData.AgentID != "" {
			return o.AgentData.AgentID
		}
	}
	if s := b.OfferedSpecifiedAgent; s != nil && s.Data != nil {
		return s.Data.AgentID
	}
	return ""
}

// OfferedQueueID returns the queue a MatchOffered names, if any.
func (b *NotificationBody) OfferedQueueID() string {
	if b.OfferedQueue != nil {
		return string(b.OfferedQueue.QueueID)
	}
	return ""
}

// Flex is a JSON string, number or boolean kept as its text: the vendor's
// schema and examples disagree on the type of several fields (reasonCode,
// timestamp, queueId).
type Flex string

// UnmarshalJSON accepts a string, a number, a boolean or null.
func (f *Flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = Flex(s)
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9' || string(b) == "true" || string(b) == "false":
		*f = Flex(b)
	default:
		return fmt.Errorf("expected a string or a number, got %s", excerpt(b))
	}
	return nil
}

// Time interprets f as milliseconds since the epoch. ok is false for text
// that is not a plausible instant (the vendor's example carries 2^63, which
// is a placeholder rather than a time).
func (f Flex) Time() (t time.Time, ok bool) {
	if f == "" {
		return time.Time{}, false
	}
	v, err := strconv.ParseFloat(string(f), 64)
	if err != nil || math.IsNaN(v) || v < 946684800000 || v > 4102444800000 { // 2000 … 2100
		return time.Time{}, false
	}
	return time.UnixMilli(int64(v)), true
}

// knownEnvelope and knownBody list the documented field names; anything else
// is counted as unknown.
var knownEnvelope = setOf("correlationId", "subscriptionId", "family", "sentAt", "accountId", "loginId",
	"initiatingLoginId", "destinationLoginId", "observedLoginId", "observingLoginId", "coachedLoginId",
	"coachingLoginId", "bargingLoginId", "body", "event")

var knownBody = setOf("event", "id", "timestamp", "agentId", "profileId", "state", "reasonCode", "cause",
	"engagementId", "channelProviderId", "connectionId", "action", "previousDialogId", "dialogId", "extension",
	"channelId", "providerEngagementId", "agentInitiatedDisconnect", "observedAgentId", "observingAgentId",
	"observingAgentConnectionId", "observedAgentConnectionId", "coachingAgentId", "coachedAgentId",
	"coachingAgentConnectionId", "coachedAgentConnectionId", "bargingAgentId", "bargingAgentConnectionId",
	"automationParticipantId", "automationType", "automationInitiatedDisconnect", "externalParticipantId",
	"externalParticipantInitiatedDisconnect", "orchestrationFlow", "attributes", "attributeList",
	"engagementParameters", "agentRoutingStrategy", "adhocEmail", "autoResponse", "channelIdentifier", "queue",
	"customerIdentifiers", "sourceAddress", "destinationAddress", "subject", "callingNumber", "dialledNumber",
	"matchId", "correlationId", "strategy", "offeredQueue", "offeredService", "offeredSpecifiedAgent",
	"initiatingAgentId", "transferTo", "destination", "queueId", "queueName", "providerDialogId", "errorType",
	"title", "detail")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// ErrNotNotification is returned for a well-formed frame that is not a
// notification (it has no body).
var ErrNotNotification = errors.New("not a notification")

// DecodeNotification decodes one Agent & Engagement notification. Unknown
// fields are tolerated and listed in Unknown; a body without an event name is
// an error.
func DecodeNotification(b []byte) (Notification, error) {
	var n Notification
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return n, fmt.Errorf("failed to decode notification: %w", err)
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return n, fmt.Errorf("failed to decode notification: %w", err)
	}
	body, ok := raw["body"]
	if !ok || string(bytes.TrimSpace(body)) == "null" {
		return n, ErrNotNotification
	}
	var rawBody map[string]json.RawMessage
	if err := json.Unmarshal(body, &rawBody); err != nil {
		return n, fmt.Errorf("failed to decode notification body: %w", err)
	}
	if n.Body.Event == "" {
		return n, errors.New("notification body has no event name")
	}
	for k := range raw {
		if !knownEnvelope[k] {
			n.Unknown = append(n.Unknown, k)
		}
	}
	for k := range rawBody {
		if !knownBody[k] {
			n.Unknown = append(n.Unknown, "body."+k)
		}
	}
	return n, nil
}

// Frame is the part of every WebSocket frame that says what it is.
type Frame struct {
	Event          string `json:"event"`
	Status         string `json:"status"`
	SubscriptionID string `json:"subscriptionId"`
	PingInterval   int64  `json:"pingInterval"`
	Expires        int64  `json:"expiresInterval"`
}

// frameKind sorts an incoming frame: a control frame (authenticationResponse,
// pong, by event name matched case-insensitively) or data.
func frameKind(b []byte) (kind string, f Frame, err error) {
	if err := json.Unmarshal(b, &f); err != nil {
		return "", f, fmt.Errorf("failed to decode frame: %w", err)
	}
	switch norm := strings.ToLower(strings.ReplaceAll(f.Event, "_", "")); norm {
	case "authenticationresponse":
		return "auth", f, nil
	case "pong":
		return "pong", f, nil
	case "ping":
		return "ping", f, nil
	case "":
		return "data", f, nil
	default:
		return "other", f, nil
	}
}

func excerpt(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return strconv.Quote(string(b))
}
