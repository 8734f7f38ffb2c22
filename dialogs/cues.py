"""The words that say what a message asks or reports, in Danish and English.

Plain data: whole-word patterns over the normalised, typo-corrected text (dialogs/understanding.py
applies them). They are the language of the domain, not of any one task: which task or event a
message names comes from the catalogue's own words (dialogs/lexicon.py), never from here.
Each pattern lists word forms generously (Danish inflects: frist, fristen, frister, fristerne).
"""

from __future__ import annotations

import re

from storage.domain import TaskStatus


def words(pattern: str) -> re.Pattern[str]:
    """A whole-word pattern: "stop" must not match inside "stoppested"."""
    # Not inside a word, nor glued to one by an apostrophe ("PLM's"); quotes around a phrase
    # ('kritisk vej') are fine.
    return re.compile(rf"(?<!\w)(?<!\w')(?:{pattern})(?!\w)(?!'\w)")


# --- questions and statements -----------------------------------------------------------------

QUESTION_START = words(
    r"hvad|hvem|hvornår|hvordan|hvorfor|hvor|hvilke|hvilken|hvilket|hvorledes|hvortil"
    r"|har|er|skal|kan|må|mon|bør|gælder|ligger|står|findes|får|kommer|følger|bliver|mangler|tæller"
    r"|what|whats|what's|who|when|where|why|how|which|is|are|do|does|did|have|has|can|could|should"
    r"|will|would|must|may|any|anything"
)
# The start of a polite request that is a command ("kan du sætte X til fuldført?").
POLITE_COMMAND = re.compile(
    r"^(?:(?:hej|hi|hey|hello|klikbot)\s+)?(?:(?:kan|vil|gider)\s+(?:du|i)\s+(?:lige\s+|godt\s+|venligst\s+|please\s+)*"
    r"|(?:jeg|vi)\s+(?:vil\s+(?:gerne\s+)?bede|beder)\s+(?:dig|jer)\s+(?:om\s+)?(?:at\s+)?(?:lige\s+)?"
    r"|(?:i'?d|i\s+would|we'?d|we\s+would)\s+like\s+you\s+to\s+|(?:i|we)\s+ask\s+you\s+to\s+"
    r"|(?:could|can|would)\s+you\s+(?:please\s+)?|please\s+|venligst\s+)"
)

# --- what is asked: the lists -------------------------------------------------------------------

OUTSTANDING = words(
    r"mangler|manglende|mangle|udestående|udeståender|outstanding|pending|remaining|unfinished"
    r"|uafsluttede?|ufærdige?|ikke-?fuldførte?|ikke-?færdige?|ikke-?afsluttede?|restance\w*|efterslæb"
    r"|åbne\s+(?:opgaver|klik\w*|punkter|sager)|open\s+(?:tasks|items|klik\w*)|står\s+(?:stadig\s+)?åbne?"
    r"|(?:stadig|still)\s+(?:åbne?|open)|er\s+åbne|are\s+open|ligger\s+(?:der\s+)?(?:og\s+)?venter|venter\s+på\s+os"
    r"|ikke\s+(?:\w+\s+){0,2}(?:lavet|gjort|lukket|fuldført|afsluttet|løst|klaret|ordnet|færdige?|gået\s+i\s*gang|startet|begyndt|påbegyndt)"
    r"|tilbage\s+(?:at\s+\w+|på\s+listen)|står\s+tilbage|er\s+der\s+tilbage|have\s+left|left\s+to\s+do|still\s+open"
    r"|what'?s\s+left|what\s+is\s+left|left\s+on\s+our\s+plate|on\s+our\s+plate|to\s*-?\s*do(?:\s*-?\s*liste?)?"
    r"|todo|huskeliste|ikke\s+(?:fået\s+)?(?:lavet|gjort|lukket|fuldført|afsluttet|løst|klaret|ordnet)"
    r"|not\s+(?:yet\s+)?(?:done|finished|completed|closed)|haven'?t\s+(?:yet\s+)?(?:done|finished|completed|closed)"
    r"|(?:skal|mangler)\s+(?:vi|jeg)\s+(?:stadig\s+)?(?:lave|gøre|ordne|have\s+\w+|nå|løse)"
    r"|(?:vi|jeg)\s+(?:skal|mangler)\s+(?:at\s+)?(?:have\s+)?(?:lave|gøre|gjort|lavet|ordne|ordnet|nå|løse|løst)"
    r"|(?:need|have|has|got)\s+to\s+do|should\s+(?:we|i)\s+do|still\s+(?:need|have)\s+to"
    r"|(?:vores|mine|min|jeres|our|my)\s+(?:klik-?\s*)?(?:opgaver|tasks)|(?:hvilke|which|what)\s+(?:klik-?\s*)?(?:opgaver|tasks)"
    r"|er\s+vi\s+bagud|bagud|behind|glemt|forgotten|overblik|oversigt|overview"
)
# "alle kommuner" asks about all municipalities unless the question is a fact of a task
# ("skal alle kommuner godkende den, eller er det valgfrit?").
COUNTS_WEAK = words(r"alle\s+kommuner|alle\s+98|all\s+(?:the\s+)?municipalities|all\s+98")
# Outstanding without the generic "hvilke opgaver": these say "not done yet".
OUTSTANDING_STRONG = words(
    r"mangler|manglende|udestående|udeståender|outstanding|pending|remaining|unfinished|uafsluttede?|ufærdige?"
    r"|ikke-?fuldførte?|ikke-?færdige?|ikke-?afsluttede?|restance\w*|efterslæb|åbne?|open|venter|tilbage|left"
    r"|ikke\s+(?:\w+\s+){0,2}(?:lavet|gjort|lukket|fuldført|afsluttet|løst|klaret|ordnet|færdige?)|bagud|behind|to\s*-?\s*do\w*"
    r"|still\s+(?:need|have)|stadig|løse\s+ender|loose\s+ends|hængepartier|restpunkter"
    r"|(?:haven'?t|hasn'?t|havent|hasnt)\s+(?:yet\s+)?(?:done|finished|completed|closed)"
)
DUE = words(
    r"frist|frister|fristen|fristerne|tidsfrist\w*|deadline\w*|due|due\s+dates?|udløber|udløb\w*|expires?"
    r"|(?!tilmeldings)\w+frist(?:er|erne|en)?|afleverings\w*|svarfrist\w*"
    r"|overdue|for\s+sent|overskredne?|overskredet|forfalder|forfaldne?|afleveres|afleveret|aflevere"
    r"|skal\s+(?:vi|jeg|man)\s+nå|nå\s+at|haster|hastende|akut\w*|urgent|brænder\s+på"
    r"|skal\s+(?:\w+\s+){0,2}være\s+(?:\w+\s+)?(?:færdig\w*|klar|løst|lavet|afleveret|lukket|på\s+plads|sendt|ordnet)"
    r"|(?:skal|mangler)\s+(?:vi|jeg)\s+(?:\w+\s+){0,2}(?:have\s+)?(?:klaret|lavet|afleveret|sendt|ordnet)\s+(?:inden|før|senest)"
    r"|(?:be|get|is|are)\s+(?:done|finished|completed)|hvornår\s+skal|rammer\s+(?:os|vi)"
    r"|(?:late|behind)\s+(?:on|with)|are\s+we\s+(?:late|behind)|skal\s+\w+\s+afleveret"
)

# --- events --------------------------------------------------------------------------------------

EVENT_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "programledermoede",
        words(
            r"programledermøde\w*|programleder\s*møde\w*|programleder-møde\w*|programme?\s+leaders?'?\s+meetings?"
            r"|programme?leader\s+meetings?|programme?\s+manager\s+meetings?|pl-?møde\w*|pl\s+møde\w*"
            r"|plm\w*|plm'\w+|møde\w*\s+for\s+(?:os\s+)?programledere\w*|meetings?\s+for\s+programme?\s+leaders"
            r"|skype-?møde\w*|skypemøde\w*|månedlige\s+(?:skype-?)?møde\w*|monthly\s+(?:skype\s+)?meetings?"
        ),
    ),
    ("leverandoerdag", words(r"leverandørdag\w*|leverandør\s+dag\w*|(?:supplier|vendor)'?s?\s+days?")),
    ("kommunedage", words(r"kommunedag\w*|kommune\s+dage\w*|municipal(?:ity)?\s+days?")),
    ("masterclass", words(r"masterclass\w*|master\s+class\w*")),
    ("workshop", words(r"workshop\w*")),
    ("kursus", words(r"kursus\w*|kurser\w*|kurset|courses?|training|uddannelse\w*")),
    ("webinar", words(r"webinar\w*")),
    ("konference", words(r"konference\w*|konferencer\w*|conferences?")),
)
# A meeting without a kind is a programme-leader meeting: KOMBIT's only meetings. Meetings in the
# plural ("hvilke møder er der i februar") ask for every event.
MEETING = words(r"møde|møder|mødet|møderne|mødes|meetings?|\w+mødet")
ONE_MEETING = words(r"møde|mødet|meeting|\w+mødet")
EVENT = words(
    r"arrangement\w*|begivenhed\w*|events?|eventet|aktivitet\w*|activit(?:y|ies)|kalender\w*|calendar"
    r"|what'?s\s+on|what\s+is\s+on|hvad\s+sker\s+der|what'?s\s+happening|what\s+is\s+happening|whats\s+on"
)
# Words asking for all kinds of events: a meeting beside them is not a programme-leader meeting.
EVENT_LIST_WORDS = words(r"arrangement\w*|begivenhed\w*|events?|aktivitet\w*|activit(?:y|ies)")
# A month glued to a meeting ("martsmødet", "april-mødet", "februar PLM'et") names that month's.
MONTH_MEETING_RE = re.compile(
    r"\b(?P<mon>januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december)"
    r"-?(?P<rest>møde\w*|moede\w*|mode\w*)\b"
)
_PLURAL_EVENTS = (
    r"arrangementer|events|møder|møderne|meetings|workshops|kurser|courses|webinarer|webinars|konferencer"
    r"|conferences|masterclasses|plm'?er|pl-møder|programledermøder|programledermøderne|aktiviteter|activities"
)
PLURAL_EVENTS = words(_PLURAL_EVENTS)
# "næste" names the next event, not "de næste to uger".
_TIME_UNIT = r"\s+(?:\d+\s+|to\s+|tre\s+|fire\s+|par\s+|few\s+|two\s+|three\s+|couple\s+of\s+)?(?:uge|uger|ugen|måned|måneder|dag|dage|week|weeks|month|months|days?)"
NEXT = words(rf"(?:næste|next|førstkommende|nærmeste|kommende|upcoming)(?!{_TIME_UNIT})|coming\s+up")
# "det næste af møderne", "the next of the meetings": one, though the noun is plural.
SINGLE_NEXT = words(rf"(?:næste|next|førstkommende|nærmeste)(?!{_TIME_UNIT})")
# A list is asked for: plural events, or words asking for several.
LIST = words(_PLURAL_EVENTS + r"|liste\w*|list|oversigt|overview|alle|all|kommende|upcoming|coming\s+up")

# --- facets of one task ------------------------------------------------------------------------

# (facet, strong cue, weak cue): the first facet with a strong cue wins, else the first with a
# weak one. Weak cues are words that also appear in questions about other things ("kun", "mail").
Facets = tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...]

TASK_FACETS: Facets = (
    (
        "critical_path",
        words(
            r"kritisk\w*\s+vej\w*|kritiske\s+vej|critical\s+path|(?:ydelsesrefusion|yr)\s+at\s+gøre"
            r"|to\s+do\s+with\s+(?:ydelsesrefusion|yr)|hvorfor\s+(?:er|ligger)\s+\w+(?:\s+\w+){0,3}\s+kritisk\w*"
        ),
        words(r"kritisk\w*|critical"),
    ),
    (
        "consequence",
        words(
            r"hvad\s+sker\s+der\s+(?:så\s+)?hvis|hvad\s+hvis|hvis\s+(?:vi|man|i)\s+ikke|what\s+happens\s+if|what\s+if"
            r"|(?:miss|misses|missed|missing)\s+(?:the\s+|our\s+|a\s+)?(?:\w+\s+)?deadline|konsekvens\w*|consequences?"
            r"|rykket|rykker|rykke|følger\s+(?:\w+\s+)?op|sanktion\w*|straf\w*|penalt\w*|for\s+sent\s+ude"
            r"|ikke\s+(?:når|overholder)|når\s+(?:\w+\s+)?ikke|(?:don'?t|do\s+not|can'?t|cannot|won'?t)\s+make\s+(?:it|the)"
            r"|chase|chased|bliver\s+vi\s+(?:kontaktet|rykket)|efter\s+fristen|after\s+the\s+deadline"
            r"|er\s+det\s+(?:et\s+)?problem|gør\s+det\s+noget|is\s+(?:that|it|this)\s+a\s+problem|er\s+det\s+(?:ok|okay|i\s+orden)"
            r"|does\s+(?:it|that)\s+matter|bliver\s+(?:\w+\s+){0,2}forsinket|forsinke\w*|delay\w*"
        ),
        words(r"opfølgning|for\s+sent|too\s+late|late"),
    ),
    (
        "follow_up",
        words(
            r"hvad\s+sker\s+der\s+(?:så|nu|bagefter|derefter|efterfølgende|efter)|hvad\s+så\s+(?:nu|bagefter)"
            r"|sker\s+der\s+så|næste\s+skridt|next\s+steps?|what\s+happens\s+(?:next|after|then|afterwards|once)"
            r"|(?:skat|kombit)\s+(?:sender|mailer|udsender|kommer\s+med)|(?:sender|mailer|udsender)\s+(?:skat|kombit)"
            r"|(?:will|does|do|when)\s+(?:skat|kombit)\s+(?:send|mail|publish|get)|publiceret|publiceres|publicere"
            r"|published|publish|offentliggjort|offentliggøres|udgivet|bliver\s+(?:den|opgaven|de)?\s*(?:aktiv|aktive"
            r"|publiceret|tilgængelig)|become\s+(?:active|available)|når\s+vi\s+har\s+sendt"
            r"|efter\s+vi\s+har|selv\s+aftalerne|modtager\s+(?:vi|de)|(?:get|receive)\s+the\s+agreements"
            r"|aftalerne\s+(?:tilsendt|fra\s+skat)|fra\s+skat|from\s+skat|går\s+det\s+gennem"
            r"|hvornår\s+kommer\s+(?:\w+\s+){0,3}(?:den|opgaven|opgaverne)|when\s+(?:will|does)\s+(?:\w+\s+){0,3}(?:come|be\s+published)"
        ),
        words(r"bagefter|afterwards|derefter"),
    ),
    (
        "contact",
        words(
            r"hvem\s+(?:skal|kan|må)\s+(?:jeg|vi|man)\s+(?:\w+\s+)?(?:sende|skrive|maile|ringe|spørge|kontakte|henvende)"
            r"|hvem\s+(?:skal|kan)\s+(?:\w+\s+){0,4}(?:sendes|have|mailes)|(?:sendes|mailes|sende|sender)\s+til\s+(?:hvem|hvad|hvilken)"
            r"|hvor\s+(?:skal|sender|kan)\s+(?:vi|jeg|man|det|den|\w+)\s+(?:\w+\s+)?(?:sende|sendes|melde|indsende|aflevere)"
            r"|hvem\s+(?:kontakter|spørger|skriver)|tage\s+fat\s+i|henvende\s+(?:mig|os)|kontaktoplysning\w*"
            r"|who\s+(?:do|should|can)\s+(?:i|we)\s+(?:contact|send|write|email|mail|ask|reach|talk)|who\s+to\s+(?:contact|ask|send)"
            r"|where\s+(?:do|should|can)\s+(?:i|we)\s+send|(?:email|send|mail)\s+(?:it|this|the\s+\w+(?:\s+\w+)?)\s+to"
            r"|mailadresse\w*|e-?mail-?adresse\w*|hvilken\s+(?:mail|adresse|postkasse)|hvilken\s+mail|have\s+besked"
            r"|melde\s+\w+\s+ind|kontakt\s+hos|contact\s+(?:at|for|person\s+at)|reach\s+out|til\s+hvem"
            r"|(?:skal|skemaet)\s+\w*\s*til\s+hvem|hvem\s+\w+\s+jeg|hvem\s+hos\s+kombit|who\s+at\s+kombit"
            r"|give\s+besked|besked\s+til|sige\s+det\s+til|hvem\s+skal\s+(?:vi|jeg)\s+(?:\w+\s+){0,3}til\b|direkte\s+til"
            r"|eller\s+til\s+(?:jer|kombit|os|skat|kdi)|(?:sende|sendes|indsende|aflevere)\s+(?:\w+\s+){0,6}hen|hvor\s+(?:\w+\s+){0,6}hen"
        ),
        words(r"kontakt|kontakte|kontakter|kontakten|contact|mail|e-?mail|spørge|spørgsmål|ask|adresse"),
    ),
    (
        "responsible",
        words(
            r"ansvarlig\w*|ansvar\w*|tovholder\w*|responsible|in\s+charge|assigned|tildelt|sidder\s+på"
            r"|er\s+det\s+(?:mig|os|\w+)\s+(?:\w+\s+){0,3}der\s+skal|ligger\s+(?:den|det|opgaven)\s+hos"
            r"|hvem\s+skal\s+(?:løse|lave|gøre|tage)|hvem\s+(?:hos\s+os|her|i\s+\w+|internt)\s+har"
            r"|who\s+(?:\w+\s+){0,4}(?:owns|handles|is\s+handling|is\s+responsible|has\s+the)|hvem\s+(?:hos\s+os\s+|her\s+|i\s+\w+\s+)?"
            r"(?:står\s+for|sidder\s+med|tager\s+sig\s+af)|who\s+(?:is\s+)?(?:handling|handles|looks\s+after|owns)"
        ),
        words(r"owner"),
    ),
    (
        "scope",
        words(
            r"omfatte\w*|dækker|dække|dækket|gælder|afgræns\w*|covers?|covering|covered|scope|apply\s+to|applies\s+to"
            r"|hvilke\s+systemer|which\s+systems|alle\s+(?:vores\s+)?(?:\w+\s+)?systemer|drejer\s+(?:det|den)\s+sig\s+om"
            r"|include\w*|inkluder\w*|mere\s+end\s+(?:én|en|et)|kun\s+(?:én|en|et)\s+\w+\s+eller\s+flere|eller\s+flere"
        ),
        words(r"kun|only|også|too|as\s+well|flere|several|både|hvad\s+med|what\s+about"),
    ),
    (
        "deadline",
        words(
            r"frist|fristen|frister|tidsfrist\w*|deadline\w*|due|senest\s+hvornår|hvornår\s+senest"
            r"|hvornår\s+skal|til\s+hvornår|by\s+when|udløber|(?:sat\s+)?dato\s+på|hvilken\s+dato|date\s+for"
            r"|(?!tilmeldings)\w+frist\w*|when\s+do\s+(?:we|i)\s+(?:have|need)\s+to|when\s+(?:must|should)\s+(?:we|i)"
        ),
        words(r"dato|date|hvornår|when"),
    ),
    (
        "description",
        words(
            r"hvad\s+(?:går|handler)|ud\s+på|indebærer|indebære|betyder|består|fortæl\w*|forklar\w*|beskriv\w*"
            r"|hvad\s+(?:skal|er)\s+(?:vi|man|jeg)\s+(?:egentlig\s+)?(?:gøre|lave)|hvordan\s+(?:griber|gør|laver|udfylder|løser|klarer|håndterer)"
            r"|hvad\s+skal\s+(?:vi|man|jeg)\s+(?:egentlig\s+)?(?:\w+\s+)?der|hvad\s+er\s+det\s+(?:\w+\s+)?(?:vi|man|jeg)\s+skal|what\s+(?:exactly\s+)?do\s+(?:we|i)\s+(?:have|need)\s+to\s+do"
            r"|what\s+(?:is|does)\s+(?:\w+\s+){0,5}(?:about|involve|mean|entail)|explain|describe|tell\s+me\s+(?:more\s+)?about"
            r"|what\s+is\s+(?:the|this|that)|hvad\s+skal\s+man\s+(?:lære|have\s+ud\s+af)|lære|learn"
            r"|details?\s+(?:on|about|of|for)|detaljer\s+(?:om|på)|info(?:rmation)?\s+(?:om|on|about)|more\s+about"
        ),
        None,
    ),
    (
        "mandatory",
        words(
            r"obligatorisk\w*|frivillig\w*|mandatory|optional|compulsory|påkrævet|tvungen|krav"
            r"|skal\s+vi\s+overhovedet|springe\s+(?:[\w-]+\s+){0,3}over|skip\w*|must\s+we|required|requirement"
            r"|do\s+we\s+(?:really\s+|even\s+)?(?:have|need)\s+to(?!\s+do\s+(?:for|in|on|with))"
            r"|lade\s+(?:det\s+|den\s+)?være|er\s+det\s+noget\s+(?:vi|man)\s+skal|skal\s+vi\s*,?\s+eller|have\s+to\s*,?\s+or"
            r"|forpligte\w*|obliged|obligated|valgfri\w*|voluntary|frivilligt|et\s+must|et\s+skal|et\s+kan"
            r"|skal\s+eller\s+kan|must\s+or\s+(?:can|optional)"
        ),
        words(r"nødvendig\w*|necessary|behøver"),
    ),
    (
        "status",
        words(
            r"status|statussen|står\s+(?:vi|den|det|opgaven|\w+)\s+(?:til|som)|stå\s+som|hvor\s+langt|how\s+far"
            r"|har\s+(?:vi|vejle|\w+\s+kommune)\s+(?:\w+\s+)?(?:fået\s+)?(?:lavet|gjort|udført|fuldført|afsluttet|klaret|løst"
            r"|udpeget|sendt|godkendt|tjekket|meldt|oprettet|indberettet|startet|påbegyndt)"
            r"|er\s+(?:vi|den|det|opgaven)\s+(?:færdig\w*|fuldført|i\s+gang|startet)|(?:did|have|has)\s+(?:we|vejle)\s+\w+"
            r"|our\s+status|is\s+it\s+(?:done|finished|completed)|godkendt\s+hos\s+os|hænger"
        ),
        None,
    ),
)

# --- facets of one event -----------------------------------------------------------------------

EVENT_FACETS: Facets = (
    (
        "invitation",
        words(
            r"invitation\w*|indkaldelse\w*|mødeindkaldelse\w*|kalenderinvitation\w*|outlook\w*|invites?"
            r"|invitere\w*|inviteret|meeting\s+requests?|calendar\s+invites?|skype-?link\w*|link\w*\s+til\s+(?:\w+\s+)?(?:skype\w*|møde\w*)"
            r"|mødelink\w*|teams-?link\w*|(?:skype|meeting|teams)\s+link\w*|i\s+min\s+kalender|in\s+my\s+calendar"
        ),
        words(r"link|linket"),
    ),
    (
        "registration",
        words(
            r"tilmelding\w*|tilmeld\w*|framelde?\w*|afmeld\w*|meld\w*\s+(?:\w+\s+){0,3}(?:til|på)(?!\w)"
            r"|melder\s+(?:mig|os)|plads\w*|udsolgt"
            r"|sold\s+out|fuldt?\s+booket|venteliste\w*|sign\s+up|signup|register\w*|registration|seats?|spots?"
            r"|places?\s+left|book\w*(?!\s+(?:tid|plads|et\s+møde)\s+i\s+(?:min\s+|kalender))|full"
        ),
        words(r"deltage|deltager|være\s+med|join|attend|komme\s+med|sende\s+(?:\w+\s+)?(?:fra|på|til)"),
    ),
    (
        "audience",
        words(
            r"for\s+hvem|målgruppe\w*|henvendt|rettet\s+mod|aimed\s+at|audience|intended\s+for"
            r"|who\s+(?:is|are)\s+(?:it|they|the\s+\w+)\s+for|hvem\s+(?:er|kan|må|skal)\s+(?:\w+\s+)?(?:for|deltage|med|komme)"
            r"|who\s+(?:can|should|may)\s+(?:attend|join|come|go)|egentlig\s+for|kun\s+(?:for|de)\s+\w+|alle\s+kommuner"
            r"|står\s+på\s+listen|udvalgte|on\s+the\s+list|open\s+to|åben\s+for|just\s+(?:a\s+)?few|only\s+for|for\s+everyone"
            r"|for\s+alle|henvender\s+(?:\w+\s+)?sig\s+til|målrettet|beregnet\s+for|(?:kan|må|can|may)\s+(?:\w+\s+){0,2}(?:deltage|join|attend|være\s+med|komme\s+med|tage\s+med|come)"
        ),
        words(
            r"for\s+(?:programledere|teknikere|leverandører|kommuner|os|mig|\w+chefer)|eller\s+(?:teknikere|programledere)"
        ),
    ),
    (
        "place",
        words(
            r"hvor\s+(?:er|bliver|foregår|holdes|afholdes|ligger|skal|is|are)|henne|sted|stedet|lokale\w*|adresse\w*"
            r"|fysisk\w*|online|virtuel\w*|på\s+skype|via\s+skype|where|location|venue|in\s+person|held"
            r"|hvilken\s+by|hvilke\s+byer|byer|cities|city"
        ),
        words(r"skype|i\s+(?:aarhus|køge|københavn|kbh|kolding|odense|vejle)"),
    ),
    (
        "description",
        words(
            r"hvad\s+(?:handler|går)|handler\s+\w+(?:\s+\w+){0,4}\s+om|ud\s+på|indhold\w*|program(?:met)?\s+for|agenda\w*"
            r"|dagsorden\w*|hvad\s+skal\s+der\s+ske|hvad\s+sker\s+der\s+på|about|fortæl\w*|beskriv\w*|explain|describe"
            r"|får\s+man\s+(?:\w+\s+)?ud\s+af|get\s+out\s+of|what\s+will\s+(?:they|we|you)\s+(?:cover|learn|do|talk)|cover\w*"
            r"|gennemgå\w*|gennemgang|tema\w*|emner"
            r"|hvad\s+skal\s+man\s+(?:lære|have\s+ud\s+af)|lære|learn"
        ),
        None,
    ),
    (
        "dates",
        words(
            r"hvornår|dato\w*|datoer|tidspunkt\w*|hvad\s+tid|hvilke\s+dage|kl|klokken|when|date|dates"
            r"|what\s+time|starter|starts?"
        ),
        words(r"dage|tid|time"),
    ),
)

# --- programmes, counts, incidents, help -------------------------------------------------------

COUNTS = words(
    r"hvor\s+mange(?!\s+(?:opgaver|frister|deadlines|tasks|dage|arrangementer|møder|gange))|antal\s+kommuner|antal"
    r"|how\s+many(?!\s+(?:tasks|deadlines|days|events|meetings|times))|number\s+of\s+municipalities|de\s+andre|andre\s+kommuner|the\s+others"
    r"|other\s+(?:municipalities|kommuner)|others|landsplan\w*|på\s+landsplan|de\s+eneste|the\s+only\s+ones"
    r"|i\s+forhold\s+til\s+(?:de\s+)?andre|ift\.?\s+(?:de\s+)?andre|sammenlign\w*|compared?|resten\s+af\s+landet"
    r"|procent\w*|percent\w*|status\s*tal|fordeling\w*\s+på\s+status|kommunerne\s+generelt"
    r"|mange\s+andre|flere\s+andre|many\s+others|andre\s+der\s+(?:heller|også)|how\s+(?:are\s+)?(?:the\s+)?\d+\s+municipalities"
    r"|hvordan\s+går\s+det\s+(?:\w+\s+){0,2}(?:for|med)\s+(?:\w+\s+)?kommunerne|how\s+are\s+(?:the\s+)?(?:\d+\s+)?(?:municipalities|kommuner)"
)
STRONG_INCIDENTS = words(
    r"driftsforstyrrelse\w*|driftsstatus|driftsinformation|driftsinfo|driftsmeddelelse\w*|driftsproblem\w*"
    r"|nedbrud\w*|outages?|disruptions?|service\s+status|system\s+status"
    r"|virker\s+ikke|not\s+working|isn'?t\s+working|root\s+cause|rodårsag\w*|fejlrettelse\w*|nede|down"
    r"|gået\s+ned|går\s+ned|gone\s+down|went\s+down|major\s+incident\w*"
    r"|korrigerende\s+handling\w*|corrective\s+actions?|utilgængelig\w*|unavailable"
    r"|(?:any|er\s+der\s+(?:nogen|nogle)?|are\s+there)\s+(?:\w+\s+)?incidents?|(?:aktuelle|current|open|åbne)\s+incidents?"
    r"|incidents?\s+(?:lige\s+nu|right\s+now|at\s+the\s+moment|currently|i\s+øjeblikket|i\s+dag|today)"
)
# An incident named as such: about it, whatever else the message names.
NAMED_INCIDENT = words(
    r"major\s+incident\w*|nedbruddet\s+på|outage\s+(?:of|on|at)|root\s+cause|rodårsag\w*"
    r"|korrigerende\s+handling\w*|corrective\s+actions?|prioritet\s+a"
)
# Incident words that stand inside task names ("kontaktpunkt til incidents"), or that say it
# only when nothing else is named ("hvad skete der med adgangsstyring").
WEAK_INCIDENTS = words(r"incidents?|driften|hvad\s+skete\s+der|what\s+happened")
INCIDENTS = words(f"{STRONG_INCIDENTS.pattern}|{WEAK_INCIDENTS.pattern}")
HELP = words(
    r"hjælp|hjælpe|help|hvad\s+kan\s+du|hvad\s+kan\s+jeg\s+(?:spørge\s+(?:dig\s+)?om|skrive|bruge\s+dig\s+til)"
    r"|what\s+can\s+you\s+do|what\s+can\s+i\s+(?:ask|say|do)|what\s+do\s+you\s+do"
    r"|how\s+does\s+(?:this|it)\s+work|how\s+do\s+i\s+use"
    r"|hvordan\s+(?:\S+\s+){0,2}?(?:virker|fungerer)|hvordan\s+bruger"
    r"|kommandoer|commands|menu|menuen|vejledning|instructions|usage|guide"
)
STRONG_HELP = words(
    r"hvad\s+kan\s+du|hvad\s+kan\s+jeg\s+spørge|what\s+can\s+you|hvad\s+kan\s+jeg\s+bruge|hvordan\s+virker\s+du"
    r"|how\s+do\s+i\s+use|kommandoer|commands"
)
GREETING = words(
    r"hej|hejsa|hejhej|hey|hi|hello|halløj|hallo|goddag|godmorgen|god\s+morgen|godaften"
    r"|god\s+aften|god\s+eftermiddag|dav|davs|morn|good\s+(?:morning|afternoon|evening|day)"
    r"|tak|takker|thanks|thank\s+you|thx|cheers|super|perfekt|fint|great|fedt"
)
CANCEL = words(
    r"annuller|afbryd|fortryd|stop|stands|glem\s+det|nej\s+tak|cancel|nevermind|never\s+mind"
    r"|forget\s+it|abort|quit|drop\s+it"
)
PROGRAMME_ASK_STRONG = words(
    r"kommer|kommende|på\s+vej|fremover|nyt|nyheder|news|coming|upcoming|planned|planlagt|forberede\w*"
    r"|i\s+gang|starte\w*|begynde\w*|start"
)
# Things the bot cannot do for anyone: "kan du bestille frokost", "can you book a room".
OUT_OF_SCOPE = words(
    r"(?:kan|vil|gider)\s+du\s+(?:\w+\s+)?(?:booke|bestille|reservere|købe|ringe\s+til|aflyse|flytte\s+mødet)"
    r"|(?:can|could|would)\s+you\s+(?:\w+\s+)?(?:book|order|reserve|buy|call|cancel\s+the\s+meeting)"
)
# Programme questions: what is coming, when.
PROGRAMME_ASK = words(
    r"kommer|kommende|på\s+vej|fremover|forvente\w*|forberede\w*|nyt|nyheder|news|coming|upcoming|planned"
    r"|planlagt|hvornår|when|klar|ready|aktive?|opgaver|tasks|sker|happening|new|handbook|håndbog\w*"
    r"|implementeringshåndbog\w*"
)

# --- status reports ----------------------------------------------------------------------------

# Something is done: the outcome, in the words people use for it.
_OUTCOME = (
    r"færdig\w*|fuldført\w*|afsluttet|afsluttede|klaret|klaret\w*|klar|løst|lukket|ordnet|overstået|gjort"
    r"|(?:på|pa)\s+plads|i\s+hus|i\s+mål|i\s+orden|i\s+land|styr\s+på|sendt\w*|afsendt|indsendt|fremsendt|videresendt|mailet"
    r"|fundet(?!\s+(?:\w+\s+)?(?:fejl|problemer|forhold|anmærkninger|mangler|issues))|udpeget|udnævnt|valgt|godkendt|tjekket|kontrolleret|oprettet|meldt\s+(?:[\w-]+\s+){0,3}ind|indmeldt|indberettet"
    r"|fandt|sendte|godkendte|tjekkede|udpegede|valgte|navngivet|navngav|modtaget|bekræftet|accepteret|sagt\s+ja"
    r"|takket\s+ja|påtaget\s+(?:sig|mig|os)|tager\s+(?:den|det|opgaven)|overtager|overtaget|tager\s+sig\s+af"
    r"|krydses\s+af|kan\s+(?:lukkes|afsluttes|krydses\s+af)|(?:er|var)\s+(?:\w+\s+)?hjemme(?!\s+(?:fra|i|på|hos))"
    r"|(?:klikket|tjekket|krydset|streget|hakket)\s+(?:\w+\s+)?af|taget\s+sig\s+af|sørget\s+for"
    r"|er\s+sket|har\s+fundet\s+sted|er\s+foretaget|foreligger|er\s+meddelt|tilendebragt|fuldbyrdet"
    r"|er\s+(?:nu|blevet)\s+(?:vores\s+|kommunens\s+)?\w*(?:punkt|person|kontakt|ansvarlig|tovholder|underskriver|administrator)\b"
    r"|fik\s+vi\s+(?:fat|godkendt|sendt|udpeget|fundet)|(?:fik\s+vi|har\s+(?:\w+\s+)?fået)\s+(?:en|et)\s+(?!rykker|mail|besked|påmindelse|henvendelse|brev|reminder|e-?mail|message|spørgsmål)"
    r"|har\s+fået\s+(?:fat|\w+et)|givet\s+(?:\w+\s+){0,4}videre|er\s+hjemme|kommet\s+hjem|gik\s+igennem|kom\s+igennem"
    r"|videregivet|meldt\s+tilbage|kørt\s+(?:\w+\s+){0,2}igennem|kørte\s+(?:vi\s+)?(?:\w+\s+)?igennem|var\s+ok|gik\s+fint|fundet\s+frem\s+til"
    r"|received|confirmed|accepted|agreed|passed\s+on|reported\s+back|went\s+fine|took\s+(?:it|that)\s+on|got\s+(?:one|someone)|uploadet|uploaded|indleveret|registreret|registered"
    # the recipient has it ("KDI har fået bilag 1"); what we received is no outcome of ours
    r"|(?<!\bvi\s)(?<!\bjeg\s)(?<!\bwe\s)(?<!\bi\s)(?<!\bwe've\s)(?:har|has)\s+(?:nu\s+|now\s+)?(?:fået|modtaget|received|got)\s+(?:bilag\w*|skemaet|formularen|the\s+form)\b"
    r"|(?<!\bwe\s)(?<!\bi\s)has\s+it\s+now"
    r"|(?:no|ingen)\s+(?:\w+\s+)?(?:issues|problems|errors|fejl|problemer|anmærkninger|bemærkninger)(?:\s+(?:found|fundet))?"
    r"|uden\s+(?:\w+\s+)?(?:anmærkninger|fejl|problemer|bemærkninger)|meldt\s+(?:\w+\s+)?til\s+(?:kombit|kdi|skat|mbprogrammet)"
    r"|(?:kombit|kdi)\s+(?:har|has)\s+(?:nu\s+|now\s+)?(?:(?:fået|modtaget|got|received)\s+)?(?:vores|our|their|deres|nummeret|navne\w*|the\s+(?:names|number|form))"
    r"|sat\s+(?:\w+\s+){0,2}op\b"
    r"|etableret|etablerede|established|oversendt|overdraget|testet|tested|skrevet\s+under(?!\s+(?:endnu|i\s+morgen))|verificeret|valideret|verified|validated|afprøvet|identificeret|identified|mailed|emailed|udpeget\w*"
    r"|ticked\s+(?:\w+\s+){0,2}off|crossed\s+(?:\w+\s+){0,2}off|krydset\s+(?:\w+\s+)?af"
    r"|underskrevet|afleveret|leveret|afklaret|krydset\s+af|sat\s+flueben|fikset|gennemført|udfyldt|udfyldte|ordnede"
    r"|røg\w*\s+(?:af)?sted|røget\s+(?:af)?sted|gik\s+(?:af)?sted|er\s+(?:nu\s+)?(?:blevet\s+)?vores|har\s+nu\s+(?:et|en|fået)"
    r"|ser\s+fint\s+ud|er\s+klaret|done|completed?|finished|went\s+(?:off\s+)?(?:to|out)|gone\s+(?:off|out)|is\s+now\s+our"
    r"|sorted|taken\s+care\s+of|handled|sent|submitted|appointed|found|approved|checked|named|designated"
    r"|nominated|signed|filled\s+(?:in|out)|ticked\s+off|wrapped\s+up|all\s+set|in\s+place|dealt\s+with"
    r"|delivered|nailed|good\s+to\s+go|got\s+(?:it|that|this)\s+done|fixed|closed|set\s+up"
)
OUTCOME = words(_OUTCOME)
# Work has begun.
PROGRESS = words(
    r"arbejder\s+(?:\w+\s+)?på|arbejder\s+(?:\w+\s+)?med|i\s+gang|igang|gået\s+i\s+gang|startet|begyndt|påbegyndt"
    r"|sat\s+gang\s+i|taget\s+hul\s+på|kommet\s+i\s+gang|snakket\s+med|talt\s+med|i\s+dialog\s+med|finder\s+ud\s+af"
    r"|undersøger|afklarer|er\s+ved\s+at\s+\w+|started\s+on|talking\s+to|discussing|checking\s+with"
    r"|sat\s+i\s+gang|igangsat|kigger\s+på|ser\s+på|er\s+ved\s+at|undervejs|har\s+taget\s+fat|tager\s+fat"
    r"|i\s+fuld\s+gang|i\s+proces|under\s+udarbejdelse|under\s+behandling|working\s+on|in\s+progress|started"
    r"|underway|under\s+way|(?<!start\s)(?<!begin\s)(?<!get\s)on\s+it(?!\s+(?:once|when|after|later|next|tomorrow|soon))|looking\s+into|dealing\s+with|begun|making\s+progress|are\s+on\s+it"
    r"|have\s+begun|has\s+begun|kicked\s+off|got\s+started|get\s+started|leder\s+efter|leder\s+igen|søger\s+efter"
    r"|looking\s+for|searching|bedt\s+(?:\w+\s+){0,3}om|spurgt\s+(?:\w+\s+){0,3}(?:om|rundt)|anmodet|asked\s+(?:\w+\s+)?(?:for|around)"
    r"|requested|afventer|venter\s+på\s+(?:svar|tilbagemelding|\w+\s+fra)|waiting\s+for|awaiting|under\s+\w+ing|under\s+afklaring"
    r"|forespørgsel|sendt\s+(?:\w+\s+)?rundt|på\s+vej|i\s+spil|in\s+the\s+pipeline|on\s+the\s+way|in\s+talks|halvt|delvist"
    r"|partly|partially|half|in\s+review|under\s+review|til\s+(?:review|godkendelse|beslutning)|i\s+høring|forelagt"
    r"|forelægges|sendt\s+til\s+(?:godkendelse|beslutning|underskrift)|submitted\s+for|halvvejs|halfway"
    r"|midt\s+i\s+(?:det|den|arbejdet|processen|opgaven)|in\s+the\s+middle\s+of\s+(?:it|the\s+work)|til\s+behandling|collecting|gathering|samler|indsamler|tester|testing|afprøver"
    r"|sidder\s+(?:\w+\s+){0,2}med|knokler|bøvler\s+med|kæmper\s+med|roder\s+med|busy\s+with"
    r"|under\s+(?:arbejde|udarbejdelse|behandling|afklaring|overvejelse|\w+(?:else|ning|ing))|taler\s+med|drøfter"
    r"|kandidat\w*|udkast|kladde|draft\w*|skitse\w*|holder\s+møde|har\s+(?:et\s+)?møde\s+med|meeting\s+with"
    r"|leder\s+(?:\w+\s+)?efter|søger\s+(?:\w+\s+)?efter|mangler\s+(?:kun|bare|lige|blot)|only\s+missing"
    r"|pågår|igangværende|genoptag\w*|resume[ds]?|wip|kickstart\w*|startet\s+op|sparket\s+i\s+gang|skudt\s+i\s+gang"
    r"|iværksat|initieret|bestilt|ordered|et\s+bud\s+på|chasing|jagter|still\s+(?:chasing|waiting|working|collecting|testing|checking)"
    r"|(?<!\d)(?:\d+|en|et|to|tre|fire|fem|seks|one|two|three|four|five)\s+(?:ud\s+)?af\s+(?:\d+|to|tre|fire|fem|seks|syv|otte|ni|ti)\b"
    r"|(?:\d+|one|two|three|four)\s+(?:out\s+)?of\s+(?:\d+|two|three|four|five|six)\b"
    r"|ikke\s+helt\s+(?:i\s+mål|færdig\w*|klar|på\s+plads)|not\s+quite\s+(?:done|there|finished|ready)"
    r"|test\w*\s+kører|kører\s+(?:\w+\s+)?test\w*|tests?\s+(?:is|are)\s+running|snakker\s+med|(?:is|are)\s+being\s+\w+|(?:to|en|tre)\s+(?:tredjedel|fjerdedel)\w*"
    r"|(?:one|two|three)\s+(?:thirds?|quarters?)|med\s+henblik\s+på\s+(?:en\s+)?(?:gennemlæsning|godkendelse|gennemsyn|underskrift|review|kommentering|vurdering)"
    r"|har\s+(?:\w+\s+){1,3}men\s+(?:ikke|mangler)|have\s+(?:\w+\s+){1,3}but\s+not"
    r"|(?:har\s+)?sat\s+[\w-]+(?:\s+\w+)?\s+til\s+at|sat\s+[\w-]+(?:\s+\w+)?\s+på\s+(?:opgaven|sagen|den|det)"
    r"|(?:assigned|put)\s+\w+(?:\s+\w+)?\s+(?:to|on)\s+(?:it|this|that|the\s+task)|fået\s+opgaven"
    # part of it done: "næsten udfyldt", "ca. 50 % færdig", "første runde", "to af underskriverne"
    rf"|(?:næsten|nærmest|stort\s+set|almost|nearly|mostly)\s+(?:\w+\s+)?(?:{_OUTCOME}|there)"
    r"|(?<!\d)[1-9]\d?\s*(?:%|procent|pct|percent)|første\s+(?:runde|del|omgang|halvdel|skridt|fase|udkast|version|gennemgang)"
    r"|first\s+(?:round|part|step|half|phase|draft|pass)|(?:nogle|enkelte|halvdelen|to|tre|fire|fem|\d+)\s+af\s+(?:de\s+\w+|dem|\w+(?:ne|erne))"
    r"|(?:some|half|two|three|part)\s+of\s+the|nået\s+(?:\w+\s+)?langt|kommet\s+(?:\w+\s+)?langt|got\s+far"
    r"|(?:good|some|great)\s+progress|progressing|coming\s+along|kigget\s+(?:lidt\s+)?på|set\s+(?:lidt\s+)?på"
    r"|looked\s+(?:\w+\s+)?(?:at|into)|had\s+a\s+(?:first\s+)?look|forslag\w*|proposal"
    r"|til\s+(?:\w+\s+)?(?:underskrift|gennemsyn|gennemlæsning|kommentering|kvalitetssikring|vurdering)"
    r"|(?:sent|out)\s+(?:\w+\s+)?for\s+(?:review|approval|signature|sign-?off)|with\s+(?:legal|the\s+lawyers)"
)
# Work has not begun (said of a task: a report that it is, or is again, not started).
NOT_STARTED = words(
    r"(?:ikke|ikk|ik)\s+(?:\w+\s+){0,2}(?:gået\s+i\s*gang|startet|begyndt|påbegyndt|kommet\s+i\s*gang|rørt|kigget\s+på|set\s+på"
    r"|taget\s+hul\s+på|taget\s+fat\s+på|gjort\s+noget|lavet\s+noget)|ikke\s+i\s+gang|not\s+(?:yet\s+|even\s+)?(?:started|begun)"
    r"|(?:haven'?t|have\s+not|didn'?t)\s+(?:\w+\s+)?done\s+anything|nothing\s+(?:has\s+been\s+)?done"
    r"|ingen\s+har\s+(?:\w+\s+)?(?:rørt|kigget\s+på|gjort\s+noget|startet)|(?:nobody|no\s*one)\s+has\s+(?:\w+\s+)?(?:touched|started|looked\s+at)"
    r"|haven'?t\s+(?:\w+\s+)?(?:started|begun|touched|looked\s+at)|(?:startede|begyndte)\s+(?:\w+\s+)?ikke"
    r"|kom\s+(?:\w+\s+)?ikke\s+i\s+gang|didn'?t\s+(?:really\s+)?(?:start|begin)|never\s+(?:really\s+)?(?:started|began)"
    r"|hasn'?t\s+(?:yet\s+)?(?:started|begun)|didn'?t\s+(?:start|begin)|not\s+(?:been\s+)?started"
)
# Starting over: not started again, unless the message says work goes on ("... men vi har et nyt navn").
RESTART = words(
    r"back\s+to\s+square\s+one|tilbage\s+til\s+start|(?:start\w*|begynd\w*)\s+(?:helt\s+)?forfra|from\s+scratch"
    r"|(?:start|starting)\s+over|røget\s+(?:helt\s+)?tilbage"
)
# Going back: the last report was wrong or premature.
BACK = words(
    r"fejl|ved\s+en\s+fejl|forkert|for\s+hurtig\w*|for\s+tidligt|genåbn\w*|genoptag\w*"
    r"|(?:sat|sætte|sæt|rullet|røget|gået|sendt)\s+(?:\w+\s+)?tilbage|tilbage\s+til\s+(?:start|påbegyndt|ikke|scratch|nul)|forfra"
    r"|fortryd\w*|by\s+mistake|mistake|wrongly|too\s+soon|reopen\w*|undo|revert\w*"
    r"|back\s+to|rettelse|ret\s+(?:den|det|status)|correct(?:ion)?|holder\s+ikke"
    r"|skulle\s+ikke\s+have|should\s+not\s+have|shouldn'?t\s+have|jumped\s+the\s+gun|too\s+early|premature\w*"
    r"|passer\s+ikke|wrong|tog\s+fejl|meldt\s+forkert|åben\w*\s+igen|open\w*\s+again"
    r"|scratch\s+(?:that|my|the)|ignore\s+my|se\s+bort\s+fra|glem\s+(?:min|mit|det\s+jeg)|træk\w*\s+(?:\S+\s+){0,4}tilbage"
    r"|correction|stoppet|sagt\s+op|quit|left\s+the|trukket\s+(?:\S+\s+){0,4}tilbage|withdrawn|revoked"
    # what we believed, now known wrong: "vi troede den var i hus"; sent back to us
    r"|troede|(?:we|i)\s+thought|(?:kommet|kom|fået\s+\w+)\s+retur|sendt\s+(?:\w+\s+)?retur\s+(?:til\s+os|fordi|da|pga|med)"
    r"|returneret\s+til\s+os|sent\s+(?:\w+\s+)?back\s+to\s+us|came\s+back|bounced"
)
# Words that go back only beside a negation: "vi er ikke færdige alligevel" goes back, "vi blev
# faktisk færdige" and "hej igen" do not.
BACK_WEAK = words(
    r"alligevel|igen|en\s+gang\s+til|again|after\s+all|actually|faktisk|turns\s+out|viser\s+sig"
    r"|hov|ups|oops|sorry|undskyld|nope"
)
# Part of it is still to do: "netværket er tjekket, klienterne mangler stadig".
REMAINS = words(
    r"mangler|remaining|still\s+(?:need\w*|missing|to\s+do|outstanding|pending)|except|undtagen"
    r"|bortset\s+fra|udestående|pending|før\s+(?:den|det|vi|de)\s+kan|before\s+(?:it|we)\s+can"
)
NEGATION = words(
    r"ikke|ikk|ik|ingen|intet|aldrig|endnu\s+ikke|stadig\s+ikke|mangler|manglede|not|no|never|haven'?t|hasn'?t"
    r"|næsten|nærmest|almost|nearly"
    r"|didn'?t|isn'?t|aren'?t|wasn'?t|weren'?t|don'?t|doesn'?t|still\s+(?:need|missing|waiting)|yet\s+to"
)
# "når borgmesteren har skrevet under": a condition still to be met.
CONDITION = words(
    r"(?<!nu\s)når\s+(?:\w+\s+){0,2}(?:har|er|bliver|får)|once\s+(?:\w+\s+){0,2}(?:has|have|is)"
)
# Plans, hopes, wishes and conditions report nothing yet.
PLAN = words(
    r"regner\s+med|forvent\w*|håber|håbe|planlægger|planen\s+er|skal\s+nok|skal\s+til\s+at"
    r"|(?:vi|jeg|we|i)\s+(?:\w+\s+)?vil\b|bliver\s+(?:nok|først|forhåbentlig)|når\s+det\s+(?:nok|først)"
    r"|bliver\s+(?:\w+\s+)?(?:sendt|\w+et)\b|will\s+be\s+\w+ed"
    r"|ville\s+være\s+\w+\s+(?:at|hvis)|would\s+be\s+\w+\s+(?:to|if)|we'?d\s+like|want\s+to"
    r"|kommer\s+til\s+at|nok\s+færdig\w*|forhåbentlig|gid|bare\s+vi|hvis\s+bare|hvis\s+(?:vi|i|man|de)|(?<!nu\s)når\s+vi"
    r"|expect\w*|plan\s+to|planning|going\s+to|gonna|will\s+(?:be|have|get|finish)|hope\w*|wish|should\s+be"
    r"|if\s+we|once\s+we|when\s+we|intend\w*|aim\s+to|mind\s+mig|påmind\w*|remind\w*|husk\s+mig|skal\s+vi\s+sætte"
    r"|burde|ought|by\s+next|inden\s+længe|snart|soon|later|senere|i\s+morgen|tomorrow"
    r"|hvis|if|husk\s+at|remember\s+to|don'?t\s+forget|skal\s+(?:\w+\s+)?have\s+\w+(?:et|t)\b|før\s+vi\s+kan|before\s+we\s+can"
    r"|must\s+(?:be|have)|\w+'ll|probably\s+(?:start|begin|finish)|går\s+(?:\w+\s+){0,2}i\s+gang|gå\s+i\s+gang|will\s+start|begynder\s+(?:på|med)"
)
# Said in the past tense: "blev sendt tirsdag" is last Tuesday, not next.
PAST = words(r"blev|var|havde|fik|sendte|was|were|had|did|yesterday|i\s+går|igår|i\s+\w+s|sidste|last")
# Not sure it happened: "jeg ved ikke om hun har nået det".
UNCERTAIN = words(
    r"ved\s+ikke\s+om|ikke\s+sikk\w*|usikker|i\s+tvivl|tvivl\w*|måske|muligvis|formentlig|not\s+sure|maybe|perhaps"
    r"|might|unsure|unclear|uvist|siger|sagde|påstår|mener|ifølge|says|said|claims|according\s+to"
    r"|tror|think|believe|vist\s+nok|vistnok|suppose"
    r"|don'?t\s+know\s+if|tvivl"
)
# About someone else, not us.
OTHERS = words(
    r"de\s+andre|andre\s+kommuner|other\s+municipalities|the\s+others|de\s+fleste(?!\s+af\s+(?!kommunerne|de\s+andre)\w)|most\s+municipalities"
    # what KOMBIT or SKAT did towards us is not our outcome ("KOMBIT har sendt os en påmindelse")
    r"|(?:kombit|skat|kdi|kl|leverandøren|the\s+vendor|the\s+supplier)\s+(?:is|are|er|har|has)\s+(?:\w+\s+)?(?:on\s+it|working|looking|på\s+sagen|i\s+gang|undersøger|arbejder)"
    r"|(?:kombit|skat|kl)\s+(?:har\s+)?(?:sendt|sender|sendte|mailet|mailer|mailede|skrevet|skriver|skrev|rykket|rykker"
    r"|informeret|meldt\s+ud|udsendt|has\s+sent|sent)"
)
# Words that point back at the task just shown.
ANAPHOR = words(r"det|den|dén|dét|opgaven|it|that|this|this\s+one|that\s+one|the\s+task|denne|dette")

# The KLIK statuses by name, negative forms first ("ikke påbegyndt" is not "påbegyndt").
STATUS_NAMES: tuple[tuple[TaskStatus, re.Pattern[str]], ...] = (
    (TaskStatus.NOT_STARTED, words(r"ikke\s+påbegyndt|ikke\s+paabegyndt|ikke\s+startet|not\s+started")),
    (
        TaskStatus.NOT_ACTIVE,
        words(r"ikke\s+aktiv|ikke\s+relevant|inaktiv|not\s+active|inactive|not\s+applicable"),
    ),
    (TaskStatus.COMPLETED, words(r"fuldført|completed?|finished|færdig")),
    (TaskStatus.STARTED, words(r"påbegyndt|startet|i\s+gang|started|in\s+progress")),
)
# A command to set a status: "ret status til påbegyndt", "sæt den tilbage til påbegyndt".
# "status på it-miljø: ikke aktiv", "kontaktpunkt → fuldført": a task and its new status.
STATUS_GIVEN = re.compile(r"^(?:status\s+(?:på|for|of|on)\s+)?(?P<subject>[^:=→>]+?)\s*(?::|=|->|→|>)\s*")
# "it-miljø skal stå som ikke aktiv": the status it should have, said as a wish that is a command.
SHOULD_BE = re.compile(
    r"(?P<subject>.+?)\s+(?:skal|bør|should)\s+(?:(?:stå|staa|være|be|show|stand)\s+(?:som|as|på|sat\s+til|set\s+to|marked\s+as)"
    r"|(?:sættes\s+|rettes\s+|go\s+)?(?:tilbage|back)\s+(?:til|to))\s+"
)
# "X bedes sat til ikke aktiv", "please set it to started": a command anywhere in a statement.
SET_ANYWHERE = words(
    r"(?:sæt\w*|sat|marker\w*|ændr\w*|ret|rette|rettes|opdater\w*|set|mark\w*|change\w*|update\w*)"
    r"\s+(?:\w+\s+){0,3}?(?:til|som|to|as)"
)
SET_VERB = words(
    r"sæt|sætte|marker|markér|markere|mark|set|change|ret|rette|ændr|ændre|opdater|opdatér|opdatere|update|skift|skifte"
    r"|flyt|flytte|registrer|registrere"
    r"|move|put|registrer|registrér|record"
)
