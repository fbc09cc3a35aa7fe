package i18n

// messages are every key (its English text), so the English catalogue has
// each; translations are the other languages. A key missing from a language
// shows in English.
var messages = map[string]bool{}

func init() {
	addRows(pages)
	addRows(clusterPages)
	for _, msgs := range translations {
		for k := range msgs {
			messages[k] = true
		}
	}
}

var translations = map[string]map[string]string{
	"de": {
		"Boards":    "Boards",
		"Board":     "Board",
		"Console":   "Konsole",
		"Settings":  "Einstellungen",
		"Admin":     "Verwaltung",
		"Agents":    "Agenten",
		"Queues":    "Warteschlangen",
		"Sources":   "Quellen",
		"TV links":  "TV-Links",
		"Users":     "Benutzer",
		"Audit log": "Änderungsprotokoll",
		"none":      "keine",
		"live":      "live",
		"Figures as of this page's load; each board is live.":                                         "Zahlen beim Laden dieser Seite; jedes Board ist live.",
		"No boards are configured for you. Boards are added under boards: in the configuration file.": "Für Sie ist kein Board eingerichtet. Boards stehen unter boards: in der Konfigurationsdatei.",
		"Admin: sources and connected screens":                                                        "Verwaltung: Quellen und verbundene Bildschirme",
		"Its address (/tv/…) is in the configuration file or was shown once when it was made":         "Seine Adresse (/tv/…) steht in der Konfigurationsdatei oder wurde beim Anlegen einmal angezeigt",
		"Available": "Verfügbar", "Ringing": "Klingelt", "On a contact": "Im Gespräch", "Wrap-up": "Nachbearbeitung",
		"Not ready": "Nicht bereit", "Logged out": "Abgemeldet", "Unknown": "Unbekannt",
		"Waiting": "Wartend", "Longest wait": "Längste Wartezeit", "Service level": "Servicelevel", "Offered": "Angeboten",
		"Answered": "Angenommen", "Abandoned": "Aufgelegt", "Avg handle": "Ø Bearbeitung", "On contacts": "Im Kontakt",
		"Abandon rate": "Abbruchquote", "Avg answer": "Ø Annahme", "Agents by state": "Agenten nach Status",
		"target %s": "Ziel %s", "waiting": "wartend", "longest": "längste", "SL": "SL", "Abd": "Abbr.", "Ans": "Angen.",
		"Off": "Ang.", "AHT": "AHT", "No agents are logged in.": "Keine Agenten angemeldet.", "No queue": "Keine Warteschlange",
		"%s is connecting": "%s verbindet sich", "%s is %s: data as of %s": "%s ist %s: Daten von %s",
		"Live updates interrupted: showing data as of": "Live-Daten unterbrochen: Stand", "Reconnecting…": "Verbinde neu…",
		"This board was removed.": "Dieses Board wurde entfernt.",
		"Edit":                    "Bearbeiten", "New board": "Neues Board",
		"connecting": "verbindet", "degraded": "gestört", "failed": "ausgefallen",
	},
	"fr": {
		"Boards":    "Tableaux",
		"Board":     "Tableau",
		"Console":   "Console",
		"Settings":  "Réglages",
		"Admin":     "Administration",
		"Agents":    "Agents",
		"Queues":    "Files",
		"Sources":   "Sources",
		"TV links":  "Liens TV",
		"Users":     "Utilisateurs",
		"Audit log": "Journal des modifications",
		"none":      "aucun",
		"live":      "en direct",
		"Figures as of this page's load; each board is live.":                                         "Chiffres au chargement de la page ; chaque tableau est en direct.",
		"No boards are configured for you. Boards are added under boards: in the configuration file.": "Aucun tableau n'est configuré pour vous. Les tableaux s'ajoutent sous boards: dans le fichier de configuration.",
		"Admin: sources and connected screens":                                                        "Administration : sources et écrans connectés",
		"Its address (/tv/…) is in the configuration file or was shown once when it was made":         "Son adresse (/tv/…) est dans le fichier de configuration ou a été montrée une fois à sa création",
		"Available": "Disponible", "Ringing": "Sonne", "On a contact": "En communication", "Wrap-up": "Post-appel",
		"Not ready": "Indisponible", "Logged out": "Déconnecté", "Unknown": "Inconnu",
		"Waiting": "En attente", "Longest wait": "Attente max.", "Service level": "Niveau de service", "Offered": "Présentés",
		"Answered": "Répondus", "Abandoned": "Abandonnés", "Avg handle": "DMT", "On contacts": "En contact",
		"Abandon rate": "Taux d'abandon", "Avg answer": "Délai moyen", "Agents by state": "Agents par état",
		"target %s": "objectif %s", "waiting": "en attente", "longest": "max.", "SL": "NS", "Abd": "Abd", "Ans": "Rép",
		"Off": "Prés", "AHT": "DMT", "No agents are logged in.": "Aucun agent connecté.", "No queue": "Sans file",
		"%s is connecting": "%s se connecte", "%s is %s: data as of %s": "%s est %s : données de %s",
		"Live updates interrupted: showing data as of": "Mises à jour interrompues : données de", "Reconnecting…": "Reconnexion…",
		"This board was removed.": "Ce tableau a été supprimé.",
		"Edit":                    "Modifier", "New board": "Nouveau tableau",
		"connecting": "en connexion", "degraded": "dégradé", "failed": "en échec",
	},
	"es": {
		"Boards":    "Paneles",
		"Board":     "Panel",
		"Console":   "Consola",
		"Settings":  "Ajustes",
		"Admin":     "Administración",
		"Agents":    "Agentes",
		"Queues":    "Colas",
		"Sources":   "Fuentes",
		"TV links":  "Enlaces de TV",
		"Users":     "Usuarios",
		"Audit log": "Registro de cambios",
		"none":      "ninguno",
		"live":      "en vivo",
		"Figures as of this page's load; each board is live.":                                         "Cifras al cargar la página; cada panel está en vivo.",
		"No boards are configured for you. Boards are added under boards: in the configuration file.": "No tiene paneles configurados. Los paneles se añaden en boards: del archivo de configuración.",
		"Admin: sources and connected screens":                                                        "Administración: fuentes y pantallas conectadas",
		"Its address (/tv/…) is in the configuration file or was shown once when it was made":         "Su dirección (/tv/…) está en el archivo de configuración o se mostró una vez al crearlo",
		"Available": "Disponible", "Ringing": "Sonando", "On a contact": "En contacto", "Wrap-up": "Poscontacto",
		"Not ready": "No disponible", "Logged out": "Desconectado", "Unknown": "Desconocido",
		"Waiting": "En espera", "Longest wait": "Espera máx.", "Service level": "Nivel de servicio", "Offered": "Ofrecidas",
		"Answered": "Atendidas", "Abandoned": "Abandonadas", "Avg handle": "TMO", "On contacts": "En contacto",
		"Abandon rate": "Tasa de abandono", "Avg answer": "TMR", "Agents by state": "Agentes por estado",
		"target %s": "objetivo %s", "waiting": "en espera", "longest": "máx.", "SL": "NS", "Abd": "Aban", "Ans": "Aten",
		"Off": "Ofr", "AHT": "TMO", "No agents are logged in.": "No hay agentes conectados.", "No queue": "Sin cola",
		"%s is connecting": "%s se está conectando", "%s is %s: data as of %s": "%s está %s: datos de %s",
		"Live updates interrupted: showing data as of": "Actualización interrumpida: datos de", "Reconnecting…": "Reconectando…",
		"This board was removed.": "Este panel fue eliminado.",
		"Edit":                    "Editar", "New board": "Nuevo panel",
		"connecting": "conectando", "degraded": "degradado", "failed": "fallido",
	},
}
