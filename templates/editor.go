package templates

// BoardEditor is the board editor's page: a board's fields as a form, the
// problems beside each, and a live preview.
type BoardEditor struct {
	New      bool   // a board not made yet (the id can be chosen)
	ReadOnly bool   // a board of the configuration file: shown, not changed
	ID       string // the board's id
	Version  int64  // the version the form was read at
	Title    string
	Sources  []EditorChoice
	Queues   []EditorChoice
	Tiles    []TileChoice
	Measures string // measure names, comma-separated
	// Thresholds are the warn/alarm rows.
	Thresholds   []ThresholdRow
	Targets      bool
	Sort         string
	GroupBy      string
	Theme        string
	Clock        string
	Lang         string
	Langs        []EditorChoice
	EmbedOrigins string // one per line
	AccessUsers  string // comma-separated
	AccessRoles  string
	AccessGroups string

	// Errors are the problems by field name (the board's key path);
	// General those of no one field.
	Errors   map[string]string
	General  []string
	Conflict string // "changed by X at HH:MM, reload"
	Saved    string

	Action     string // where the form posts
	PreviewURL string // the preview page, without its query
	BoardURL   string // the board's page, once made
	DeleteURL  string // the confirmation page ("" for a new board)
	CSRF       string
	Script     string // static/editor.js
	Assets     Assets
}

// EditorChoice is one option of the board editor: a checkbox or a select.
type EditorChoice struct {
	Value, Label string
	Checked      bool
}

// TileChoice is one figure the board may show, and its place.
type TileChoice struct {
	Name, Label string
	On          bool
	Pos         string
}

// ThresholdRow is a warn/alarm pair of the form.
type ThresholdRow struct {
	Key, Label, Unit string // Key: the thresholds' key (waiting, longest_wait, …)
	Warn, Alarm      string
}

// BoardDelete is the confirmation page of a board's removal.
type BoardDelete struct {
	ID, Title string
	Version   int64
	CSRF      string
	Assets    Assets
}
