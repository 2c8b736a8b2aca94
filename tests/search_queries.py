"""The queries the search page is tested with, against the sample archive (seeds/content).

FOUND: each query must bring up the item with the given headline among the first
FIRST_RESULTS results. The query is spelled the way a reader might type it, which
is often not how the item writes the word. NOTHING: each query must find no item
at all: words the archive does not hold, near misses that differ from a real word
by a letter folding must keep apart, and a word found only in a draft.
FOLDING_WORDS: words whose folding in the browser must equal newsgen's in Python.
"""

FIRST_RESULTS = 5

# Headlines of the sample items the queries look for.
FLU = "حملة تطعيم موسمية ضد الإنفلونزا في قرى وادي الكرمة"
HOSPITAL = "مستشفى الريحان الجامعي يفتتح جناحًا لعلاج أمراض القلب لدى الأطفال"
GRANDMOTHER = "جدة من نجيمة تحتفل بعيد ميلادها المئة بخبز مئة رغيف لجيرانها"
LAKE = "بحيرة الغزلان تفقد ثلث مساحتها في عشر سنوات"
PORT = "مرفأ اللؤلؤ يبدأ توسعة رصيفه الشرقي لمضاعفة طاقته"
MINISTER = "استقالة وزير الدفاع في جمهورية سهلان"
DELEGATION = "وصل وفد رسمي من وزارة الدفاع السورية إلى موسكو في زيارة رسمية."
ELECTION = "نتائج أولية: حزب الميزان يتصدّر انتخابات برلمان سهلان"
PAYMENTS = "شركة «نسيم» تطلق تطبيقًا للدفع بالهاتف في أسواق الريحان"
CUP = "منتخب سهلان يبلغ نهائي كأس القارة لكرة القدم للمرة الأولى"
NOVEL = "«بيت على حافة الضباب» تفوز بجائزة الكرمة للرواية"
SEA = "دول بحر العنبر تتفق على قواعد مشتركة للملاحة والإنقاذ"
BORDER = "جولة جديدة من المفاوضات بين سهلان وجزران حول الحدود النهرية"
SATELLITE = "سهلان تطلق أول قمر صناعي للاتصالات صنعته جامعاتها"
DERBY = "نسور الريحان يحسمون ديربي العاصمة بهدفين ويتصدرون الدوري"
EXPLAINER = "أسئلة وأجوبة: كيف يُنتخب المجلس البلدي في نجيمة؟"
SPICES = "معرض التوابل الإقليمي يعود إلى مرفأ اللؤلؤ بمشاركة 200 عارض"

# (query, headline of an item it must find, what the query exercises)
FOUND: list[tuple[str, str, str]] = [
    # hamza forms of alef: أ إ آ ا
    ("الإنفلونزا", FLU, "as written, with إ"),
    ("الانفلونزا", FLU, "bare alef for إ"),
    ("الانقاذ", SEA, "bare alef for «الإنقاذ»"),
    ("اسئلة", EXPLAINER, "bare alef for «أسئلة»"),
    ("آليات", DELEGATION, "as written, with madda"),
    ("اليات", DELEGATION, "bare alef for «آليات»"),
    ("إمينة", GRANDMOTHER, "alef with hamza below for «أمينة»"),
    # alef maqsura and ya: ى ي
    ("مستشفى", HOSPITAL, "as written, with ى"),
    ("مستشفي", HOSPITAL, "ya for alef maqsura"),
    ("كبري", EXPLAINER, "ya for «كبرى»"),
    # ta marbuta and ha: ة ه
    ("مدرسه", GRANDMOTHER, "ha for the ta marbuta of «المدرسة»"),
    ("استقاله", MINISTER, "ha for the ta marbuta of «استقالة»"),
    ("الروايه", NOVEL, "ha for the ta marbuta of «الرواية»"),
    # diacritics (tashkeel)
    ("مُسْتَشْفَى", HOSPITAL, "full tashkeel on a bare word"),
    ("رِوَايَة", NOVEL, "tashkeel, no article"),
    ("ينتخب", EXPLAINER, "no damma where the item writes «يُنتخب»"),
    ("يتصدّر", ELECTION, "shadda as written"),
    ("يتصدر", ELECTION, "no shadda where the item writes «يتصدّر»"),
    ("الحُدُود", BORDER, "dammas the item does not write"),
    # tatweel
    ("الـــدفاع", MINISTER, "tatweel inside the word"),
    ("مـرفـأ", PORT, "tatweel between letters"),
    # clitics
    ("والدفاع", MINISTER, "«وال» on a word the item writes «الدفاع»"),
    ("بالمرفأ", PORT, "«بال» on «مرفأ»"),
    ("الاتصالات", SATELLITE, "article where the item writes «للاتصالات»"),
    ("اتصالات", SATELLITE, "no clitic where the item writes «للاتصالات»"),
    ("جائزة", NOVEL, "no clitic where the item writes «بجائزة»"),
    ("والإنقاذ", SEA, "as written, «و» + article"),
    ("فالانتخابات", ELECTION, "«فال» on «الانتخابات»"),
    ("هاتف", PAYMENTS, "no clitic where the item writes «بالهاتف»"),
    ("وبحيرة", LAKE, "«و» on «بحيرة»: tried once the whole word finds nothing"),
    ("لمستشفى", HOSPITAL, "«ل» on «مستشفى»: tried once the whole word finds nothing"),
    ("كرة", CUP, "no clitic where the item writes «لكرة»"),
    # digits
    ("٢٤", HOSPITAL, "Arabic-Indic digits, as the item writes them"),
    ("24", HOSPITAL, "Western digits where the item writes «٢٤»"),
    ("٦٤٠", PORT, "Arabic-Indic digits where the item writes «640»"),
    ("١٨٠", SATELLITE, "Arabic-Indic digits where the item writes «180»"),
    ("٢٠٠ عارض", SPICES, "Arabic-Indic digits and a word"),
    # several words
    ("وزير الدفاع", MINISTER, "two words"),
    ("مرفأ اللؤلؤ توسعة", PORT, "three words"),
    ("ديربي العاصمة", DERBY, "two words"),
]

# (query, why it must find nothing)
NOTHING: list[tuple[str, str]] = [
    ("زلزال", "absent from the archive"),
    ("كمبيوتر", "absent from the archive"),
    ("البورصة", "absent (a topic keyword in site.toml, in no item)"),
    ("الأسهم", "absent (a topic keyword in site.toml, in no item)"),
    ("مستشفا", "final alef is not alef maqsura: «مستشفى» must not match"),
    ("مدرست", "ta is not ta marbuta: «مدرسة» must not match"),
    ("الظباب", "zah is not dad: «الضباب» must not match"),
    ("شوق", "sheen is not seen: «سوق» must not match"),
    ("محرجان", "hah is not heh: «مهرجان» must not match"),
    ("الدفاغ", "ghain is not ain: «الدفاع» must not match"),
    ("تطعين", "nun is not mim: «تطعيم» must not match"),
    ("اللولو", "waw is not waw with hamza: «اللؤلؤ» must not match"),
    ("مرفق", "qaf is not alef with hamza: «مرفأ» must not match"),
    ("بحيرت", "ta is not ta marbuta: «بحيرة» must not match"),
    ("الإيرادات", "only in a draft, which is not published"),
    ("وزير الزراعة", "each word is in the archive, never together"),
]

# Words for the Python/JavaScript folding comparison, besides every query above.
FOLDING_WORDS: list[str] = [
    "أحمد", "إسلام", "آمال", "ٱلله", "مستشفى", "مدرسة", "مُحَمَّدٌ", "الـــعربية", "١٢٣", "۴۵",
    "BBC", "ﻻ", "ﷲ", "Straße", "ΣΊΣΥΦΟΣ", "ﬁne", "İstanbul", "ǅemal", "Ꭰ", "ꭰ",
    "والدفاع", "بالدفاع", "للدفاع", "فالدفاع", "وللجيش", "فللجيش", "كالبحر", "وبالعلم",
    "ولد", "وزير", "بحيرة", "ومستشفى", "لل", "وال", "بال", "و", "",
    "مسؤول", "مسئول", "شؤون", "رئيس", "سماء", "قرأ", "ﻷ", "‌زو‌ج", "\u200fنص\u200e",
    "آليات", "الآليات", "والآليات", "اليات", "إلكتروني", "ألوان", "ٱلكتاب",
    "ـــ", "كِتَابٌ", "الْقُرْآن", "إِنَّ", "ٰ", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "2024", "snake_case",
    "٣٫٥", "٪٥٠", "«اقتباس»", "سؤال؟", "كلمة، كلمة؛ كلمة.",
]
