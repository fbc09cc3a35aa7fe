package i18n

// clusterPages are the messages of the admin page's Replicas section
// (cluster: set), one row a message as in pages.
var clusterPages = []row{
	{"Replicas", "Replikate", "Réplicas", "Réplicas"},
	{"This is %s; no replica leads (a failover is under way).",
		"Dies ist %s; kein Replikat führt (ein Failover läuft).",
		"Ceci est %s ; aucune réplique ne dirige (basculement en cours).",
		"Este es %s; ninguna réplica lidera (conmutación en curso)."},
	{"This is %s; it leads (it runs the sources).",
		"Dies ist %s; es führt (es betreibt die Quellen).",
		"Ceci est %s ; elle dirige (elle exécute les sources).",
		"Este es %s; lidera (ejecuta las fuentes)."},
	{"This is %s; %s leads.",
		"Dies ist %s; %s führt.",
		"Ceci est %s ; %s dirige.",
		"Este es %s; %s lidera."},
	{"Applied the event stream through %s of %s, %s s behind.",
		"Ereignisstrom angewendet bis %s von %s, %s s Rückstand.",
		"Flux d'événements appliqué jusqu'à %s sur %s, %s s de retard.",
		"Flujo de eventos aplicado hasta %s de %s, %s s de retraso."},
	{"Not ready: %s", "Nicht bereit: %s", "Pas prête : %s", "No lista: %s"},
	{"replica", "Replikat", "réplique", "réplica"},
	{"leads", "führt", "dirige", "lidera"},
	{"applied", "angewendet", "appliqué", "aplicado"},
	{"leader", "führend", "meneur", "líder"},
}
