package twiml_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/twiml"
)

func ExampleParse() {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="alice">Joining the room.</Say>
  <Dial timeLimit="600">
    <Conference startConferenceOnEnter="false" waitUrl="">Room 1234</Conference>
  </Dial>
</Response>`
	r, err := twiml.Parse(strings.NewReader(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range r.Verbs {
		switch v := v.(type) {
		case *twiml.Say:
			fmt.Printf("%s say %q as %s\n", v.Position(), v.Text(), v.Voice)
		case *twiml.Dial:
			c := v.Nouns[0].(*twiml.Conference)
			fmt.Printf("%s dial %q for %ds, ring %ds, beep %s, max %d, silent wait %v\n",
				v.Position(), c.Name, v.TimeLimit, v.Timeout, c.Beep, c.MaxParticipants, c.IsSet("waitUrl") && c.WaitURL == "")
		}
	}
	// Output:
	// 3:3 say "Joining the room." as alice
	// 4:3 dial "Room 1234" for 600s, ring 30s, beep true, max 250, silent wait true
}

func ExampleParse_errors() {
	doc := `<Response>
  <Dial timeout="soon"><Number>+15558675310</Number><Conference>Room</Conference></Dial>
  <say>lower case is not TwiML</say>
</Response>`
	_, err := twiml.Parse(strings.NewReader(doc))
	var list twiml.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Println(e)
		}
	}
	// Output:
	// 2:9: 13212 Dial: invalid timeout value "soon": must be a positive integer
	// 2:53: 13000 Dial: <Conference> cannot be combined with other nouns in the same <Dial>
	// 3:3: 12200 Response: unknown verb <say> (TwiML names are case-sensitive)
}

func ExampleMarshal() {
	g := twiml.New[twiml.Gather]()
	g.NumDigits = 1
	g.Action = "/menu"
	say := twiml.New[twiml.Say]()
	say.Content = []twiml.Content{twiml.Text("Press 1 for sales.")}
	g.Verbs = []twiml.Verb{say}
	out, err := twiml.Marshal(&twiml.Response{Verbs: []twiml.Verb{g, twiml.New[twiml.Hangup]()}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <Response>
	//   <Gather action="/menu" numDigits="1">
	//     <Say>Press 1 for sales.</Say>
	//   </Gather>
	//   <Hangup/>
	// </Response>
}
