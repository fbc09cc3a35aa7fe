package projection

import (
	"fmt"
	"time"

	"github.com/wallboard/wallboard/internal/model"
)

// The figures' definitions in plain words: a board's tiles and KPIs and the
// console's panels show them on hover, so what a number counts is never a
// guess.

// secsText is a threshold in words ("20 seconds").
func secsText(d time.Duration) string {
	if d%time.Second == 0 {
		n := int(d / time.Second)
		if n == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", n)
	}
	return d.String()
}

// SettingsText says a queue's service-level settings in words.
func SettingsText(s model.QueueSettings) string {
	out := "Service level threshold " + secsText(s.SLThreshold)
	if s.ShortAbandon > 0 {
		out += "; abandons within " + secsText(s.ShortAbandon) + " are short abandons, not counted against service level"
	} else {
		out += "; no short-abandon threshold"
	}
	if s.ExcludeAbandons {
		out += "; abandons are not in the service-level denominator."
	} else {
		out += "; abandons count in the service-level denominator."
	}
	return out
}

// slFormula is the service level's formula under s.
func slFormula(s model.QueueSettings) string {
	out := "contacts answered within " + secsText(s.SLThreshold) + " of entering the queue ÷ "
	switch {
	case s.ExcludeAbandons:
		out += "contacts answered (abandons are left out by this queue's settings)"
	case s.ShortAbandon > 0:
		out += "(contacts answered + contacts abandoned after waiting " + secsText(s.ShortAbandon) + " or more; shorter abandons are left out)"
	default:
		out += "(contacts answered + contacts abandoned)"
	}
	return out
}

// Define is the definition of figure over win (Floor.PeriodText) under
// settings s, in plain words: what counts, which period, which settings.
func Define(figure, win string, s model.QueueSettings) string {
	switch figure {
	case "offered":
		return "Offered " + win + ": contacts that entered this queue (a contact transferred into another queue counts there too)."
	case "answered":
		return "Answered " + win + ": contacts an agent accepted, counted when answered."
	case "abandoned":
		out := "Abandoned " + win + ": contacts that ended while waiting or ringing, never answered; a contact the platform took out of the queue (timeout, overflow) is not an abandon."
		if s.ShortAbandon > 0 {
			out += " Short abandons (within " + secsText(s.ShortAbandon) + ") are included here and shown in brackets."
		}
		return out
	case "service_level":
		return "Service level " + win + ": " + slFormula(s) + ". Shown as – before there is anything to divide."
	case "aht":
		return "Average handle time " + win + ": from answer to end of contact (talk and hold, not wrap-up), averaged over the contacts that ended in that period."
	}
	return ""
}
