package twiml

import (
	"slices"
	"strings"
)

// The `twiml` struct tag on a field of an element type declares one attribute:
//
//	twiml:"NAME,KIND[,default=V][,code=N][,min=N][,max=N][,enum=a|b][,list=a|b]"
//
// KIND is str (free text), url, method (GET or POST), bool, int, enum (one of
// enum=...) or list (space-separated values, each one of list=...). code is
// Twilio's error code for a wrong value (12200 if absent). The tags drive
// parsing, defaults, validation, writing and the golden dump alike (spec.go).

// DefaultWaitURL is the hold music Twilio plays to a <Conference> participant
// waiting for the conference to start when no waitUrl is given (000_*: waitUrl).
const DefaultWaitURL = "http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical"

// Meta is embedded in every element: where it starts in the document and which
// of its attributes the document spelled out. Present lists attribute names in
// the element's canonical attribute order; an attribute whose value was invalid
// is not present (its field keeps the default).
type Meta struct {
	Pos     Pos
	Present []string
}

// Position returns where the element starts (its '<').
func (m *Meta) Position() Pos { return m.Pos }

// IsSet reports whether the document gave attribute attr explicitly, as
// opposed to the field holding Twilio's default. <Conference waitUrl=""> is
// the case that needs it: set and empty means silence.
func (m *Meta) IsSet(attr string) bool { return slices.Contains(m.Present, attr) }

func (m *Meta) meta() *Meta { return m }

// Node is any TwiML element of the model.
type Node interface {
	// Position is where the element starts in the document.
	Position() Pos
	// TagName is the element's name in TwiML ("Say", "Conference", "break").
	TagName() string
	meta() *Meta
}

// Verb is an element allowed directly inside <Response> (and, for Say, Play and
// Pause, inside <Gather>).
type Verb interface {
	Node
	isVerb()
}

// Noun is an element nested in a verb: what <Dial> dials, what <Connect>,
// <Start> and <Stop> act on.
type Noun interface {
	Node
	isNoun()
}

// Content is what <Say> (and a generic Element) contains: Text or *Element.
type Content interface {
	isContent()
}

// Text is character data inside <Say> or an SSML element, as written
// (entities decoded, whitespace kept).
type Text string

func (Text) isContent() {}

// Attr is one attribute of a generic Element.
type Attr struct {
	Name  string
	Value string
}

// Element is a generic XML element: an SSML element inside <Say> (break,
// prosody, say-as, ...), or a TwiML element Twilio documents that switchboard
// does not model field by field (<Pay>, <Connect><Room>, <Start><Transcription>,
// ...). Its attributes and content are kept as written so it round-trips.
type Element struct {
	Meta
	Name     string
	Attrs    []Attr
	Children []Content
}

// TagName returns e.Name.
func (e *Element) TagName() string { return e.Name }

// Attr returns the value of the attribute name and whether it is there.
func (e *Element) Attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Text returns the character data of e and its descendants, concatenated.
func (e *Element) Text() string { return contentText(e.Children) }

func (*Element) isVerb()    {}
func (*Element) isNoun()    {}
func (*Element) isContent() {}

func contentText(cs []Content) string {
	var b strings.Builder
	var walk func([]Content)
	walk = func(cs []Content) {
		for _, c := range cs {
			switch c := c.(type) {
			case Text:
				b.WriteString(string(c))
			case *Element:
				walk(c.Children)
			}
		}
	}
	walk(cs)
	return b.String()
}

// Response is a TwiML document: the root <Response> and its verbs in order.
type Response struct {
	Meta
	Verbs []Verb
}

// TagName returns "Response".
func (*Response) TagName() string { return "Response" }

// Say speaks text to the caller (https://www.twilio.com/docs/voice/twiml/say).
// Its content may mix text with SSML elements.
type Say struct {
	Meta
	Voice    string    `twiml:"voice,str,default=man,code=13511"`    // voice: man, woman, alice, Polly.*, Google.*
	Language string    `twiml:"language,str,default=en-US"`          // language: BCP 47 tag
	Loop     int       `twiml:"loop,int,default=1,min=0,code=13510"` // loop: times to say it; 0 = until hangup
	Content  []Content // text and SSML
}

// Text returns the words to speak with SSML markup removed.
func (s *Say) Text() string { return contentText(s.Content) }

// Play plays an audio file, or DTMF digits, to the caller
// (https://www.twilio.com/docs/voice/twiml/play).
type Play struct {
	Meta
	Loop   int    `twiml:"loop,int,default=1,min=0,code=13410"` // loop: times to play; 0 = until hangup
	Digits string `twiml:"digits,str,code=13430"`               // digits: DTMF to send (0-9 * # w W)
	URL    string // the audio URL (element text)
}

// Pause waits silently (https://www.twilio.com/docs/voice/twiml/pause).
type Pause struct {
	Meta
	Length int `twiml:"length,int,default=1,min=0,code=13910"` // length: seconds
}

// Gather collects DTMF digits or speech, playing its nested Say, Play and Pause
// meanwhile (https://www.twilio.com/docs/voice/twiml/gather).
type Gather struct {
	Meta
	Action                      string   `twiml:"action,url"`
	Method                      string   `twiml:"method,method,default=POST,code=13312"`
	Input                       []string `twiml:"input,list,default=dtmf,list=dtmf|speech,code=13326"`
	Timeout                     int      `twiml:"timeout,int,default=5,min=0,code=13313"`
	SpeechTimeout               string   `twiml:"speechTimeout,str,code=13327"` // "auto" or seconds; "" = same as timeout
	MaxSpeechTime               int      `twiml:"maxSpeechTime,int,default=60,min=1,code=13328"`
	FinishOnKey                 string   `twiml:"finishOnKey,str,default=#,code=13310"`
	NumDigits                   int      `twiml:"numDigits,int,min=1,code=13314"` // 0 = no limit
	PartialResultCallback       string   `twiml:"partialResultCallback,url"`
	PartialResultCallbackMethod string   `twiml:"partialResultCallbackMethod,method,default=POST,code=13329"`
	Language                    string   `twiml:"language,str,default=en-US,code=13331"`
	Hints                       string   `twiml:"hints,str"`
	ProfanityFilter             bool     `twiml:"profanityFilter,bool,default=true,code=13333"`
	SpeechModel                 string   `twiml:"speechModel,str,code=13334"`
	Enhanced                    bool     `twiml:"enhanced,bool,default=false"`
	BargeIn                     bool     `twiml:"bargeIn,bool,default=true,code=13332"`
	ActionOnEmptyResult         bool     `twiml:"actionOnEmptyResult,bool,default=false,code=13338"`
	Debug                       bool     `twiml:"debug,bool,default=false"`
	Verbs                       []Verb   // nested Say, Play and Pause
}

// Record records the caller (https://www.twilio.com/docs/voice/twiml/record).
type Record struct {
	Meta
	Action                        string   `twiml:"action,url"`
	Method                        string   `twiml:"method,method,default=POST,code=13610"`
	Timeout                       int      `twiml:"timeout,int,default=5,min=0,code=13611"` // seconds of silence that end it
	FinishOnKey                   string   `twiml:"finishOnKey,str,default=1234567890*#,code=13613"`
	MaxLength                     int      `twiml:"maxLength,int,default=3600,min=1,code=13612"`
	PlayBeep                      bool     `twiml:"playBeep,bool,default=true,code=13616"`
	Trim                          string   `twiml:"trim,enum,default=trim-silence,enum=trim-silence|do-not-trim,code=13699"`
	RecordingStatusCallback       string   `twiml:"recordingStatusCallback,url"`
	RecordingStatusCallbackMethod string   `twiml:"recordingStatusCallbackMethod,method,default=POST"`
	RecordingStatusCallbackEvent  []string `twiml:"recordingStatusCallbackEvent,list,default=completed,list=in-progress|completed|absent,code=13621"`
	StorageURL                    string   `twiml:"storageUrl,url"`
	StorageURLMethod              string   `twiml:"storageUrlMethod,method,default=POST"`
	Transcribe                    bool     `twiml:"transcribe,bool,default=false,code=13614"`
	TranscribeCallback            string   `twiml:"transcribeCallback,url,code=13257"`
}

// Dial connects the caller to another party: a phone number given as text, or
// up to ten nouns (https://www.twilio.com/docs/voice/twiml/dial).
type Dial struct {
	Meta
	Action                        string   `twiml:"action,url"`
	Method                        string   `twiml:"method,method,default=POST,code=13210"`
	Timeout                       int      `twiml:"timeout,int,default=30,min=1,code=13212"`
	HangupOnStar                  bool     `twiml:"hangupOnStar,bool,default=false,code=13213"`
	TimeLimit                     int      `twiml:"timeLimit,int,default=14400,min=1,code=13216"`
	CallerID                      string   `twiml:"callerId,str,code=13214"`
	Record                        string   `twiml:"record,enum,default=do-not-record,enum=do-not-record|record-from-answer|record-from-ringing|record-from-answer-dual|record-from-ringing-dual|true|false,code=13217"`
	Trim                          string   `twiml:"trim,enum,default=do-not-trim,enum=trim-silence|do-not-trim"`
	RecordingStatusCallback       string   `twiml:"recordingStatusCallback,url"`
	RecordingStatusCallbackMethod string   `twiml:"recordingStatusCallbackMethod,method,default=POST"`
	RecordingStatusCallbackEvent  []string `twiml:"recordingStatusCallbackEvent,list,default=completed,list=in-progress|completed|absent,code=13621"`
	RecordingTrack                string   `twiml:"recordingTrack,enum,default=both,enum=both|inbound|outbound,code=13622"`
	AnswerOnBridge                bool     `twiml:"answerOnBridge,bool,default=false,code=13219"`
	RingTone                      string   `twiml:"ringTone,enum,enum=at|au|bg|br|be|ch|cl|cn|cz|de|dk|ee|es|fi|fr|gr|hu|il|in|it|lt|jp|mx|my|nl|no|nz|ph|pl|pt|ru|se|sg|th|uk|us|us-old|tw|ve|za,code=13220"`
	Sequential                    bool     `twiml:"sequential,bool,default=false,code=13218"`
	ReferURL                      string   `twiml:"referUrl,url"`
	ReferMethod                   string   `twiml:"referMethod,method,default=POST"`
	Events                        string   `twiml:"events,enum,enum=call-progress-event"`
	Number                        string   // a phone number given as the element's text
	Nouns                         []Noun   // Number, Sip, Client, Conference, Queue (and Application, Sim, WhatsApp as *Element)
}

// Number is a phone number to dial (https://www.twilio.com/docs/voice/twiml/number).
type Number struct {
	Meta
	SendDigits                         string   `twiml:"sendDigits,str,code=13222"`
	URL                                string   `twiml:"url,url"`
	Method                             string   `twiml:"method,method,default=POST,code=13221"`
	StatusCallbackEvent                []string `twiml:"statusCallbackEvent,list,list=initiated|ringing|answered|completed"`
	StatusCallback                     string   `twiml:"statusCallback,url"`
	StatusCallbackMethod               string   `twiml:"statusCallbackMethod,method,default=POST"`
	BYOC                               string   `twiml:"byoc,str"`
	MachineDetection                   string   `twiml:"machineDetection,enum,enum=Enable|DetectMessageEnd"`
	MachineDetectionTimeout            int      `twiml:"machineDetectionTimeout,int,default=30,min=1"`
	MachineDetectionSpeechThreshold    int      `twiml:"machineDetectionSpeechThreshold,int,default=2400,min=1"`
	MachineDetectionSpeechEndThreshold int      `twiml:"machineDetectionSpeechEndThreshold,int,default=1200,min=1"`
	MachineDetectionSilenceTimeout     int      `twiml:"machineDetectionSilenceTimeout,int,default=5000,min=1"`
	AMDStatusCallback                  string   `twiml:"amdStatusCallback,url"`
	AMDStatusCallbackMethod            string   `twiml:"amdStatusCallbackMethod,method,default=POST"`
	PhoneNumber                        string   // the number (element text, trimmed)
}

// Sip dials a SIP URI (001_*; https://www.twilio.com/docs/voice/twiml/sip).
type Sip struct {
	Meta
	Username             string   `twiml:"username,str,code=13249"`
	Password             string   `twiml:"password,str,code=13249"`
	URL                  string   `twiml:"url,url"` // call-screening TwiML run on the called party
	Method               string   `twiml:"method,method,default=POST,code=13241"`
	StatusCallbackEvent  []string `twiml:"statusCallbackEvent,list,list=initiated|ringing|answered|completed"`
	StatusCallback       string   `twiml:"statusCallback,url"`
	StatusCallbackMethod string   `twiml:"statusCallbackMethod,method,default=POST"`
	MachineDetection     string   `twiml:"machineDetection,enum,enum=Enable|DetectMessageEnd"`
	AMDStatusCallback    string   `twiml:"amdStatusCallback,url"`
	URI                  string   // the SIP URI (element text, trimmed)
}

// Client dials a client identity (https://www.twilio.com/docs/voice/twiml/client),
// given as text or as an <Identity> child with <Parameter> siblings.
type Client struct {
	Meta
	URL                  string   `twiml:"url,url"`
	Method               string   `twiml:"method,method,default=POST"`
	StatusCallbackEvent  []string `twiml:"statusCallbackEvent,list,list=initiated|ringing|answered|completed"`
	StatusCallback       string   `twiml:"statusCallback,url"`
	StatusCallbackMethod string   `twiml:"statusCallbackMethod,method,default=POST"`
	Identity             string   // the identity (text or <Identity>, trimmed)
	IdentityElement      bool     // Identity came from an <Identity> child
	Parameters           []*Parameter
}

// Conference joins a named conference room: every attribute of the table in
// 000_* (https://www.twilio.com/docs/voice/twiml/conference).
type Conference struct {
	Meta
	Muted                         bool     `twiml:"muted,bool,default=false,code=13230"`
	Beep                          string   `twiml:"beep,enum,default=true,enum=true|false|onEnter|onExit,code=13235"`
	StartConferenceOnEnter        bool     `twiml:"startConferenceOnEnter,bool,default=true,code=13232"`
	EndConferenceOnExit           bool     `twiml:"endConferenceOnExit,bool,default=false,code=13231"`
	ParticipantLabel              string   `twiml:"participantLabel,str,code=16023"`
	JitterBufferSize              string   `twiml:"jitterBufferSize,enum,default=large,enum=small|medium|large|off,code=16002"`
	WaitURL                       string   `twiml:"waitUrl,url,default=http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical,code=13233"`
	WaitMethod                    string   `twiml:"waitMethod,method,default=POST,code=13234"`
	MaxParticipants               int      `twiml:"maxParticipants,int,default=250,min=2,max=250,code=16002"`
	Record                        string   `twiml:"record,enum,default=do-not-record,enum=do-not-record|record-from-start,code=16002"`
	Region                        string   `twiml:"region,enum,enum=us1|us2|ie1|de1|sg1|br1|au1|jp1,code=16002"`
	Trim                          string   `twiml:"trim,enum,default=trim-silence,enum=trim-silence|do-not-trim,code=13239"`
	Coach                         string   `twiml:"coach,str,code=13240"`
	StatusCallbackEvent           []string `twiml:"statusCallbackEvent,list,list=start|end|join|leave|mute|hold|modify|speaker|announcement,code=16002"`
	StatusCallback                string   `twiml:"statusCallback,url"`
	StatusCallbackMethod          string   `twiml:"statusCallbackMethod,method,default=POST,code=16002"`
	RecordingStatusCallback       string   `twiml:"recordingStatusCallback,url"`
	RecordingStatusCallbackMethod string   `twiml:"recordingStatusCallbackMethod,method,default=POST,code=16002"`
	RecordingStatusCallbackEvent  []string `twiml:"recordingStatusCallbackEvent,list,default=completed,list=in-progress|completed|absent,code=13621"`
	EventCallbackURL              string   `twiml:"eventCallbackUrl,url"`
	Name                          string   // the room name (element text, trimmed)
}

// Queue dials the caller at the head of a queue filled by <Enqueue>
// (https://www.twilio.com/docs/voice/twiml/queue).
type Queue struct {
	Meta
	URL                 string `twiml:"url,url,code=14211"` // whisper TwiML for the dequeued caller
	Method              string `twiml:"method,method,default=POST,code=14210"`
	ReservationSID      string `twiml:"reservationSid,str"`
	PostWorkActivitySID string `twiml:"postWorkActivitySid,str"`
	Name                string // the queue name (element text, trimmed)
}

// Enqueue puts the caller in a queue (https://www.twilio.com/docs/voice/twiml/enqueue).
type Enqueue struct {
	Meta
	Action        string `twiml:"action,url,code=14203"`
	Method        string `twiml:"method,method,default=POST,code=14201"`
	WaitURL       string `twiml:"waitUrl,url,code=14202"`
	WaitURLMethod string `twiml:"waitUrlMethod,method,default=POST,code=14206"`
	WorkflowSID   string `twiml:"workflowSid,str"`
	MaxQueueSize  int    `twiml:"maxQueueSize,int,min=1,max=5000"` // 0 = the queue's own limit
	Name          string // the queue name (element text, trimmed)
	Task          *Task  // with workflowSid: the TaskRouter task
}

// Task is the TaskRouter task of an <Enqueue workflowSid=...>; its text is JSON.
type Task struct {
	Meta
	Priority int    `twiml:"priority,int,min=0"`
	Timeout  int    `twiml:"timeout,int,min=1"`
	Body     string // the task attributes (JSON text, trimmed)
}

// Leave takes the caller out of the queue it waits in
// (https://www.twilio.com/docs/voice/twiml/leave).
type Leave struct{ Meta }

// Hangup ends the call (https://www.twilio.com/docs/voice/twiml/hangup).
type Hangup struct {
	Meta
	Parameters []*Parameter
}

// Reject refuses an incoming call without answering it
// (https://www.twilio.com/docs/voice/twiml/reject).
type Reject struct {
	Meta
	Reason     string `twiml:"reason,enum,default=rejected,enum=rejected|busy,code=13810"`
	Parameters []*Parameter
}

// Redirect continues the call with the TwiML at another URL
// (https://www.twilio.com/docs/voice/twiml/redirect).
type Redirect struct {
	Meta
	Method string `twiml:"method,method,default=POST,code=13710"`
	URL    string // element text, trimmed
}

// Refer transfers a SIP call away with a SIP REFER
// (https://www.twilio.com/docs/voice/twiml/refer).
type Refer struct {
	Meta
	Action string `twiml:"action,url"`
	Method string `twiml:"method,method,default=POST"`
	Sip    *ReferSip
}

// ReferSip is the target of a <Refer>: <Refer><Sip>URI</Sip></Refer>.
type ReferSip struct {
	Meta
	URI string // element text, trimmed
}

// Connect hands the call to another service: a bidirectional <Stream>, or a
// noun switchboard keeps as an *Element (Room, VirtualAgent, ConversationRelay, ...)
// (https://www.twilio.com/docs/voice/twiml/connect).
type Connect struct {
	Meta
	Action string `twiml:"action,url"`
	Method string `twiml:"method,method,default=POST"`
	Nouns  []Noun
}

// Start begins something that runs beside the call: a one-way <Stream>, a
// <Siprec> session, (or, kept as *Element, a Transcription or Recording)
// (https://www.twilio.com/docs/voice/twiml/start).
type Start struct {
	Meta
	Action string `twiml:"action,url"`
	Method string `twiml:"method,method,default=POST"`
	Nouns  []Noun
}

// Stop ends what a <Start> began, found by name
// (https://www.twilio.com/docs/voice/twiml/stream#stop-a-stream).
type Stop struct {
	Meta
	Nouns []Noun
}

// Echo plays the caller's audio back to them (a test verb Twilio documents).
type Echo struct{ Meta }

// Stream forks the call's audio to a WebSocket
// (https://www.twilio.com/docs/voice/twiml/stream).
type Stream struct {
	Meta
	URL                  string `twiml:"url,url"`
	Name                 string `twiml:"name,str"`
	Track                string `twiml:"track,enum,default=inbound_track,enum=inbound_track|outbound_track|both_tracks"`
	StatusCallback       string `twiml:"statusCallback,url"`
	StatusCallbackMethod string `twiml:"statusCallbackMethod,method,default=POST"`
	ConnectorName        string `twiml:"connectorName,str"`
	Parameters           []*Parameter
}

// Siprec forks the call to a SIPREC recorder
// (https://www.twilio.com/docs/voice/twiml/siprec).
type Siprec struct {
	Meta
	Name                 string `twiml:"name,str"`
	ConnectorName        string `twiml:"connectorName,str"`
	Track                string `twiml:"track,enum,default=inbound_track,enum=inbound_track|outbound_track|both_tracks"`
	StatusCallback       string `twiml:"statusCallback,url"`
	StatusCallbackMethod string `twiml:"statusCallbackMethod,method,default=POST"`
	Parameters           []*Parameter
}

// Parameter is a custom name/value pair handed on with a Client call, a
// Stream, a Siprec session, or a Hangup/Reject callback.
type Parameter struct {
	Meta
	Name  string `twiml:"name,str"`
	Value string `twiml:"value,str"`
}

func (*Say) TagName() string        { return "Say" }
func (*Play) TagName() string       { return "Play" }
func (*Pause) TagName() string      { return "Pause" }
func (*Gather) TagName() string     { return "Gather" }
func (*Record) TagName() string     { return "Record" }
func (*Dial) TagName() string       { return "Dial" }
func (*Number) TagName() string     { return "Number" }
func (*Sip) TagName() string        { return "Sip" }
func (*Client) TagName() string     { return "Client" }
func (*Conference) TagName() string { return "Conference" }
func (*Queue) TagName() string      { return "Queue" }
func (*Enqueue) TagName() string    { return "Enqueue" }
func (*Task) TagName() string       { return "Task" }
func (*Leave) TagName() string      { return "Leave" }
func (*Hangup) TagName() string     { return "Hangup" }
func (*Reject) TagName() string     { return "Reject" }
func (*Redirect) TagName() string   { return "Redirect" }
func (*Refer) TagName() string      { return "Refer" }
func (*ReferSip) TagName() string   { return "Sip" }
func (*Connect) TagName() string    { return "Connect" }
func (*Start) TagName() string      { return "Start" }
func (*Stop) TagName() string       { return "Stop" }
func (*Echo) TagName() string       { return "Echo" }
func (*Stream) TagName() string     { return "Stream" }
func (*Siprec) TagName() string     { return "Siprec" }
func (*Parameter) TagName() string  { return "Parameter" }

func (*Say) isVerb()      {}
func (*Play) isVerb()     {}
func (*Pause) isVerb()    {}
func (*Gather) isVerb()   {}
func (*Record) isVerb()   {}
func (*Dial) isVerb()     {}
func (*Enqueue) isVerb()  {}
func (*Leave) isVerb()    {}
func (*Hangup) isVerb()   {}
func (*Reject) isVerb()   {}
func (*Redirect) isVerb() {}
func (*Refer) isVerb()    {}
func (*Connect) isVerb()  {}
func (*Start) isVerb()    {}
func (*Stop) isVerb()     {}
func (*Echo) isVerb()     {}

func (*Number) isNoun()     {}
func (*Sip) isNoun()        {}
func (*Client) isNoun()     {}
func (*Conference) isNoun() {}
func (*Queue) isNoun()      {}
func (*Stream) isNoun()     {}
func (*Siprec) isNoun()     {}

// Interface guards.
var (
	_ Verb = (*Say)(nil)
	_ Verb = (*Element)(nil)
	_ Noun = (*Conference)(nil)
	_ Noun = (*Element)(nil)
	_ Node = (*Response)(nil)
	_ Node = (*Parameter)(nil)
	_ Node = (*Task)(nil)
	_ Node = (*ReferSip)(nil)
)
