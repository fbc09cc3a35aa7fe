package templates

// DayPage is a board's day for supervisors (day.templ): per queue, the
// intervals as charts and as a table, and the day against the same
// weekday a week before.
type DayPage struct {
	BoardID, Title string
	Date           string // YYYY-MM-DD
	Weekday        string // "Tuesday"
	Prev, Next     string // the dates either side ("" when Next would be after today)
	BoardURL       string
	CSVURL         string
	Queues         []DayQueue
	Assets         Assets
	Interval       string // "15 min"
}

// DayQueue is one queue's day.
type DayQueue struct {
	Name, Source string
	DOMID        string // day-{source}-{id}
	Volume       DayChart
	SL           DayChart
	Rows         []DayRow
	Total        DayRow
	WeekAgo      DayRow // the same weekday a week before
	Compare      []DayChange
}

// DayChart is an SVG chart in user units (viewBox 0 0 W H).
type DayChart struct {
	W, H    int
	Label   string // the chart in words
	Bars    []DayBar
	Line    string // polyline points
	Dots    []TrendDot
	TargetY string // "" = none
	AHTLine string // polyline points of handle time (SL chart), scaled to its own maximum
	Ticks   []DayTick
}

// DayBar is one bar: Class says which figure (offered, answered,
// abandoned), each drawn differently (outline, solid, hatched).
type DayBar struct {
	Class      string
	X, Y, W, H string
	Title      string
}

// DayTick is an hour mark on the time axis.
type DayTick struct {
	X, Label string
}

// DayRow is one interval (or the day's total) in the table.
type DayRow struct {
	Start         string // "09:15"
	Offered       int
	Answered      int
	Abandoned     int
	ServiceLevel  string
	AverageHandle string
	MaxWait       string
	Complete      bool
}

// DayChange is one figure against a week before: "▲ 12% vs Tue 25 Nov".
type DayChange struct {
	Name, Now, Before, Change string
	Direction                 string // "up", "down", "same"
}
