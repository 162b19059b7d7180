package tones

// The ringing tones, by Twilio ringTone value.
//
// Sources. "E.180" is ITU-T Recommendation E.180 Supplement 2, "Various tones
// used in national networks" (the ITU's list of national tones, kept by the ITU
// as tones-0203.pdf). "Asterisk [xx]" is the [xx] section of Asterisk's
// configs/samples/indications.conf.sample, whose ring= lines transcribe E.180
// for most countries (the sections cite tones-0203.pdf) or the national
// specification the section names; every entry was checked against it, and
// where a source differs the comment says which was followed and why.
// Frequencies are in E.180's notation (f, f1+f2, f1*f2 for modulation; see the
// package comment); cadences are in milliseconds: on, off, on, off, ...
var table = []entry{
	// Austria: E.180 420 Hz 1.0 on 5.0 off; Asterisk [at] ring = 420/1000,0/5000.
	{"at", plain(420), ms(1000, 5000)},
	// Australia: ACIF S002 (cited by Asterisk [au]) and E.180: 425 Hz modulated
	// by 25 Hz, 0.4 on 0.2 off 0.4 on 2.0 off. Asterisk writes it 413+438, two
	// tones 12.5 Hz either side of 425 Hz, which beat at the same 25 Hz.
	{"au", modulated(425, 25, defaultDepth), ms(400, 200, 400, 2000)},
	// Bulgaria: E.180 425 Hz 1.0 on 4.0 off; Asterisk [bg].
	{"bg", plain(425), ms(1000, 4000)},
	// Brazil: 425 Hz 1.0 on 4.0 off; Asterisk [br].
	{"br", plain(425), ms(1000, 4000)},
	// Belgium: E.180 425 Hz 1.0 on 3.0 off; Asterisk [be].
	{"be", plain(425), ms(1000, 3000)},
	// Switzerland: E.180 425 Hz 1.0 on 4.0 off; Asterisk [ch].
	{"ch", plain(425), ms(1000, 4000)},
	// Chile: E.180 and Telefónica CTC Chile's specification (cited by Asterisk
	// [cl]): 400 Hz 1.0 on 3.0 off.
	{"cl", plain(400), ms(1000, 3000)},
	// China: E.180 450 Hz 1.0 on 4.0 off; Asterisk [cn].
	{"cn", plain(450), ms(1000, 4000)},
	// Czech Republic: E.180 425 Hz 1.0 on 4.0 off; Asterisk [cz].
	{"cz", plain(425), ms(1000, 4000)},
	// Germany: E.180 425 Hz 1.0 on 4.0 off ("Ringing tone - I"); Asterisk [de].
	{"de", plain(425), ms(1000, 4000)},
	// Denmark: E.180 425 Hz 1.0 on 4.0 off; Asterisk [dk].
	{"dk", plain(425), ms(1000, 4000)},
	// Estonia: E.180 425 Hz 1.0 on 4.0 off; Asterisk [ee].
	{"ee", plain(425), ms(1000, 4000)},
	// Spain: E.180 425 Hz 1.5 on 3.0 off; Asterisk [es].
	{"es", plain(425), ms(1500, 3000)},
	// Finland: E.180 425 Hz 1.0 on 4.0 off; Asterisk [fi].
	{"fi", plain(425), ms(1000, 4000)},
	// France: E.180 440 Hz 1.5 on 3.5 off; Asterisk [fr].
	{"fr", plain(440), ms(1500, 3500)},
	// Greece: E.180 425 Hz 1.0 on 4.0 off; Asterisk [gr].
	{"gr", plain(425), ms(1000, 4000)},
	// Hungary: E.180 425 Hz 1.25 on 3.75 off; Asterisk [hu].
	{"hu", plain(425), ms(1250, 3750)},
	// Israel: Asterisk [il] ring = 414/1000,0/3000: 414 Hz, 1.0 on 3.0 off.
	// Some tone lists give a nominal 400 Hz; Asterisk uses 414 Hz for every
	// Israeli tone, and so does this table.
	{"il", plain(414), ms(1000, 3000)},
	// India: E.180 400 Hz modulated by 25 Hz, 0.4 on 0.2 off 0.4 on 2.0 off;
	// Asterisk [in] ring = 400*25/400,0/200,400*25/400,0/2000.
	{"in", modulated(400, 25, defaultDepth), ms(400, 200, 400, 2000)},
	// Italy: E.180 425 Hz 1.0 on 4.0 off; Asterisk [it].
	{"it", plain(425), ms(1000, 4000)},
	// Lithuania: E.180 425 Hz 1.0 on 4.0 off; Asterisk [lt].
	{"lt", plain(425), ms(1000, 4000)},
	// Japan: E.180 400 Hz modulated by 16 Hz (other descriptions give 15 to
	// 20 Hz), 1.0 on 2.0 off. Asterisk [jp] approximates it as 400+15.
	{"jp", modulated(400, 16, defaultDepth), ms(1000, 2000)},
	// Mexico: E.180 425 Hz 1.0 on 4.0 off; Asterisk [mx] ring (its ringcadence
	// line, 2000,4000, is the bell cadence, not the tone's).
	{"mx", plain(425), ms(1000, 4000)},
	// Malaysia: E.180 425 Hz 0.4 on 0.2 off 0.4 on 2.0 off; Asterisk [my] ring.
	{"my", plain(425), ms(400, 200, 400, 2000)},
	// Netherlands: E.180 425 Hz 1.0 on 4.0 off; Asterisk [nl].
	{"nl", plain(425), ms(1000, 4000)},
	// Norway: E.180 425 Hz 1.0 on 4.0 off; Asterisk [no].
	{"no", plain(425), ms(1000, 4000)},
	// New Zealand: Telepermit PTC TNA 102 (cited by Asterisk [nz]) and E.180:
	// 400+450 Hz, 0.4 on 0.2 off 0.4 on 2.0 off.
	{"nz", dual(400, 450), ms(400, 200, 400, 2000)},
	// Philippines: E.180 425+480 Hz 1.0 on 4.0 off; Asterisk [ph].
	{"ph", dual(425, 480), ms(1000, 4000)},
	// Poland: E.180 425 Hz 1.0 on 4.0 off; Asterisk [pl].
	{"pl", plain(425), ms(1000, 4000)},
	// Portugal: E.180 425 Hz 1.0 on 5.0 off; Asterisk [pt].
	{"pt", plain(425), ms(1000, 5000)},
	// Russia: the Ministry of Communications' rules for switching equipment
	// (Table 1, "Kontrol posylki vyzova"): 425 Hz, 1.0 ±0.1 on, 4.0 ±0.4 off, at
	// -15 to -5 dB; Asterisk [ru], which cites OST 45.223-2001. (Some gateway
	// profiles use 0.8 on 3.2 off, an older variant.)
	{"ru", plain(425), ms(1000, 4000)},
	// Sweden: E.180 425 Hz 1.0 on 5.0 off; Asterisk [se].
	{"se", plain(425), ms(1000, 5000)},
	// Singapore: IDA TS PSTN1 (cited by Asterisk [sg]): 425 Hz modulated by
	// 24 Hz with 100 % modulation depth, 0.4 on 0.2 off 0.4 on 2.0 off.
	{"sg", modulated(425, 24, 1), ms(400, 200, 400, 2000)},
	// Thailand: E.180 as transcribed by Asterisk [th] ring = 420/1000,0/5000.
	{"th", plain(420), ms(1000, 5000)},
	// United Kingdom: BT SIN 350 and E.180: 400+450 Hz, 0.4 on 0.2 off 0.4 on
	// 2.0 off; Asterisk [uk].
	{"uk", dual(400, 450), ms(400, 200, 400, 2000)},
	// United States: the North American precise tone plan and E.180: 440+480 Hz,
	// 2.0 on 4.0 off; Asterisk [us].
	{"us", dual(440, 480), ms(2000, 4000)},
	// United States before the precise tone plan (Bell System, about 1950 to the
	// 1970s): audible ring was 420 Hz modulated by 40 Hz, 2.0 on 4.0 off. This is
	// our best knowledge of the historical tone, as in Asterisk [us-old] ring =
	// 420*40/2000,0/4000; E.180 does not list it.
	{"us-old", modulated(420, 40, defaultDepth), ms(2000, 4000)},
	// Taiwan: 440+480 Hz 1.0 on 2.0 off, Asterisk [tw] ring (after the tone
	// tables it cites; its ringcadence line, 1000,4000, is the bell cadence).
	{"tw", dual(440, 480), ms(1000, 2000)},
	// Venezuela: E.180 425 Hz 1.0 on 4.0 off; Asterisk [ve].
	{"ve", plain(425), ms(1000, 4000)},
	// South Africa: 400 Hz modulated by 33 Hz, 0.4 on 0.2 off 0.4 on 2.0 off, as
	// Telkom's Siemens exchanges play it: Asterisk [za] ring = 400*33/400,0/200,
	// 400*33/400,0/2000 (its Alcatel exchanges use 383+417 instead).
	{"za", modulated(400, 33, defaultDepth), ms(400, 200, 400, 2000)},
}
