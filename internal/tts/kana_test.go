package tts

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

func TestToKana(t *testing.T) {
	tests := []struct{ in, want string }{
		{"日本語を話します", "ニホンゴヲハナシマス"},
		{"こんにちは", "コンニチワ"},
		{"東京は晴れです", "トーキョーワハレデス"},
		{"私の名前は山田太郎です", "ワタシノナマエワヤマダタローデス"},
		{"お電話ありがとうございます。", "オデンワアリガトーゴザイマス。"},
		{"学校へ行きます", "ガッコーエイキマス"},
		{"ABC株式会社です、123番", "ABCカブシキガイシャデス、123バン"},
		{"Hello 世界", "Hello セカイ"},
		{"カタカナ", "カタカナ"},
		{"Hello, world.", "Hello, world."},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ToKana(tt.in); got != tt.want {
			t.Errorf("ToKana(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestToKanaReadsEverything checks that no kanji and no hiragana survive, so
// espeak-ng never says "Chinese letter".
func TestToKanaReadsEverything(t *testing.T) {
	for _, s := range []string{
		"本日は晴天なり。明日の天気は雨でしょう。",
		"只今電話に出ることができません。発信音の後にメッセージをどうぞ。",
		"ご用件の番号を押してください。営業は一番、サポートは二番です。",
		"鬱蒼とした森に麒麟が現れた",
	} {
		got := ToKana(s)
		for _, r := range got {
			if unicode.In(r, unicode.Han, unicode.Hiragana) {
				t.Errorf("ToKana(%q) = %q keeps %q", s, got, r)
				break
			}
		}
	}
}

func TestToKanaConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := ToKana("東京は晴れです"); got != "トーキョーワハレデス" {
				t.Errorf("got %q", got)
			}
		})
	}
	wg.Wait()
}

// TestJapaneseDictionaryCost measures what loading the dictionary costs, the
// figure quoted in the package documentation. It only reports when the
// dictionary is not loaded yet (run it alone: go test -run DictionaryCost -v).
func TestJapaneseDictionaryCost(t *testing.T) {
	if kanaLoaded() {
		t.Skip("dictionary already loaded by another test")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := LoadJapanese(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("japanese dictionary: loaded in %v, %.1f MB of heap", elapsed,
		float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
	if !strings.HasPrefix(ToKana("東京"), "トーキョー") {
		t.Fatal("dictionary loaded but does not read")
	}
}

// kanaLoaded reports whether the dictionary load has happened.
func kanaLoaded() bool { return kana.loaded.Load() }

func BenchmarkToKana(b *testing.B) {
	if err := LoadJapanese(); err != nil {
		b.Fatal(err)
	}
	s := "お電話ありがとうございます。ご用件の番号を押してください。営業は一番、サポートは二番です。"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		ToKana(s)
	}
}
