"""Clinical safety cases seen on material outside the corpus: each was a way to harm a patient.

Drugs never swapped for other drugs, doses never absorbed or left unflagged, abbreviations
never invented, and a dictation in an unexpected language never passed on unchecked.
"""

from __future__ import annotations

import pytest

from transcribe.text import TextLayer, TextOptions


def clean(layer: TextLayer, text: str, lang: str):
    return layer.clean_text(text, lang)


# --- 3. a real drug the lexicon lacks is never replaced by another drug ----------------------------
@pytest.mark.parametrize(
    ("lang", "dictated", "drug"),
    [
        # the cases seen: each was rewritten into another drug
        ("fr", "vériciguat 10 mg par jour", "vériciguat"),
        ("fr", "désoximétasone crème deux fois par jour", "désoximétasone"),
        ("fr", "cariprazine 3 mg le soir", "cariprazine"),
        ("en", "Cordarone 200 mg daily", "Cordarone"),
    ],
)
def test_the_drugs_seen_swapped_are_kept_as_dictated(text_layer: TextLayer, lang: str, dictated: str,
                                                     drug: str) -> None:
    result = clean(text_layer, dictated, lang)
    assert drug.lower() in result.text.lower(), result.text
    assert not [e for e in result.edits if drug.lower() in e.before.lower()]


@pytest.mark.parametrize(
    ("lang", "dictated", "drug"),
    [
        # real medicines in neither lexicon: only their shape (an INN ending, a capital in drug position) says so
        ("fr", "relais par obéfazimod 50 mg", "obéfazimod"),
        ("fr", "il tolère bien le tozorakimab", "tozorakimab"),
        ("en", "she was started on danuglipron", "danuglipron"),
        ("en", "lepodisiran was well tolerated", "lepodisiran"),
        ("en", "patient on Marcumar since March", "Marcumar"),
        ("fr", "sous Adiro 100 mg", "Adiro"),
        ("en", "Tachipirina 1000 mg as needed", "Tachipirina"),
        ("fr", "reprise du Nolotil à la sortie", "Nolotil"),
    ],
)
def test_a_drug_in_no_lexicon_is_never_replaced(text_layer: TextLayer, lang: str, dictated: str, drug: str) -> None:
    for language in ("fr", "en"):  # the test means something only while no lexicon lists it
        vocab = text_layer.vocabulary.for_language(language)
        assert vocab.term(drug) is None and not vocab.is_foreign_drug(drug)
    result = clean(text_layer, dictated, lang)
    assert drug.lower() in result.text.lower(), result.text
    assert not [e for e in result.edits if drug.lower() in e.before.lower()]


@pytest.mark.parametrize("brand", ["Eliquis", "Lasix", "Xanax", "Coumadin", "Ozempic", "Januvia", "Lipitor",
                                   "Plavix", "Synthroid", "Zoloft"])
def test_common_english_brands_are_known(text_layer: TextLayer, brand: str) -> None:
    result = clean(text_layer, f"patient on {brand} since March", "en")
    assert brand in result.text and not result.flags, result.flags


@pytest.mark.parametrize("brand", ["Kardégic", "Doliprane", "Eliquis", "Lasilix", "Xarelto", "Levothyrox",
                                   "Inexium", "Seresta", "Cordarone", "Ozempic"])
def test_common_french_brands_are_known(text_layer: TextLayer, brand: str) -> None:
    result = clean(text_layer, f"patient sous {brand} depuis mars", "fr")
    assert brand in result.text and not result.flags, result.flags


# --- 5. doses ----------------------------------------------------------------------------------------
def test_a_temperature_does_not_absorb_the_next_number(text_layer: TextLayer) -> None:
    assert clean(text_layer, "fièvre à trente-neuf degrés trois jours", "fr").text == "Fièvre à 39 °C 3 jours"
    assert clean(text_layer, "fièvre à 39 degrés 3 jours", "fr").text == "Fièvre à 39 °C 3 jours"
    assert clean(text_layer, "température à trente-huit degrés cinq", "fr").text == "Température à 38,5 °C"


@pytest.mark.parametrize(
    ("lang", "dictated", "written"),
    [
        ("fr", "warfarine cinquante milligrammes par jour", "Warfarine 50 mg"),
        ("fr", "paracétamol dix grammes par jour", "Paracétamol 10 g"),
        ("fr", "bisoprolol cinquante milligrammes", "Bisoprolol 50 mg"),
        ("fr", "lévothyroxine mille microgrammes", "Lévothyroxine 1000 µg"),
        ("en", "warfarin fifty milligrams daily", "Warfarin 50 mg"),
        ("en", "metoprolol one thousand milligrams", "Metoprolol 1000 mg"),
        ("en", "amlodipine one hundred milligrams daily", "Amlodipine 100 mg"),
    ],
)
def test_a_dose_implausible_for_its_drug_is_flagged(text_layer: TextLayer, lang: str, dictated: str,
                                                     written: str) -> None:
    result = clean(text_layer, dictated, lang)
    assert written in result.text
    assert [f for f in result.flags if f.kind == "dose"], result.flags


@pytest.mark.parametrize(
    ("lang", "dictated"),
    [("fr", "warfarine cinq milligrammes par jour"), ("fr", "paracétamol un gramme trois fois par jour"),
     ("fr", "bisoprolol cinq milligrammes"), ("en", "warfarin five milligrams daily"),
     ("en", "metoprolol fifty milligrams twice daily")],
)
def test_a_usual_dose_is_not_flagged(text_layer: TextLayer, lang: str, dictated: str) -> None:
    assert not [f for f in clean(text_layer, dictated, lang).flags if f.kind == "dose"]


def test_a_huge_quantity_written_with_de_is_flagged(text_layer: TextLayer) -> None:
    result = clean(text_layer, "quatre millions de grammes", "fr")
    assert "4000000" in result.text.replace(" ", "").replace("\u202f", "")
    assert [f for f in result.flags if f.kind == "dose"]


def test_an_ambiguous_dose_offers_its_readings(text_layer: TextLayer) -> None:
    result = clean(text_layer, "paracétamol 5,000 grammes", "fr")
    (flag,) = [f for f in result.flags if f.kind == "dose" and f.choices]
    assert flag.choices == ("5 g", "5000 g")
    assert result.text[flag.text_start:flag.text_end] == "5,000 g"


@pytest.mark.parametrize(
    ("lang", "dictated", "expected"),
    [
        ("fr", "une fois que le traitement est pris", "Une fois que le traitement est pris"),
        ("fr", "une fois qu'il est sorti", "Une fois qu'il est sorti"),
        ("fr", "un comprimé une fois par jour", "1 comprimé 1 fois par jour"),
        ("en", "heart rate one ten", "Heart rate 110"),
        ("en", "pulse one twenty regular", "Pulse 120 regular"),
        ("en", "born in nineteen fifty eight", "Born in 1958"),
        ("en", "surgery in twenty nineteen", "Surgery in 2019"),
        ("fr", "opéré en 1.958", "Opéré en 1958"),
        ("en", "diagnosed in 1,998", "Diagnosed in 1998"),
    ],
)
def test_numbers_in_words_that_are_not_doses(text_layer: TextLayer, lang: str, dictated: str, expected: str) -> None:
    assert clean(text_layer, dictated, lang).text == expected


# --- 6. abbreviations are never invented -----------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "dictated", "expected"),
    [
        ("en", "She had a CS in 2010", "She had a CS in 2010"),
        ("en", "a KI of 3", "A KI of 3"),
        ("en", "history of a MI", "History of a MI"),
        ("fr", "il a un AVC", "Il a un AVC"),
        ("fr", "H T A et B P C O", "HTA et BPCO"),
        ("en", "C O P D exacerbation", "COPD exacerbation"),
    ],
)
def test_letters_join_only_when_each_piece_is_a_spelled_letter(text_layer: TextLayer, lang: str, dictated: str,
                                                               expected: str) -> None:
    assert clean(text_layer, dictated, lang).text == expected


def test_a_mixed_spelling_is_flagged_not_joined(text_layer: TextLayer) -> None:
    result = clean(text_layer, "une BPC au stade 2", "fr")
    assert "BPC au" in result.text
    assert [f for f in result.flags if f.kind == "abbreviation" and f.suggestion == "BPCO"]


@pytest.fixture(scope="module")
def expanding(text_layer: TextLayer) -> TextLayer:
    return TextLayer(text_layer.vocabulary, TextOptions(abbreviations="expand"))


@pytest.mark.parametrize(
    ("lang", "dictated"),
    [("en", "a history of ED"), ("fr", "PAC sur le Holter"), ("fr", "sous IPP depuis un mois"),
     ("en", "on oral PE treatment")],
)
def test_expansion_needs_the_context_to_decide(expanding: TextLayer, lang: str, dictated: str) -> None:
    result = expanding.clean_text(dictated, lang)
    assert not [e for e in result.edits if e.rule == "abbreviation"], result.edits
    assert [f for f in result.flags if f.kind == "abbreviation"]


def test_the_context_decides_an_expansion(expanding: TextLayer) -> None:
    assert "emergency department" in expanding.clean_text("seen in the ED after a fall", "en").text
    assert "pontage aorto-coronarien" in expanding.clean_text("un PAC en 2015 après infarctus", "fr").text


def test_no_context_word_is_too_common_to_decide(text_layer: TextLayer) -> None:
    import wordfreq

    for language in ("fr", "en"):
        vocab = text_layer.vocabulary.for_language(language)
        for senses in vocab.abbreviations.values():
            for sense in senses:
                common = [w for w in sense.context if w.isalpha() and wordfreq.zipf_frequency(w, language) >= 6.0]
                assert not common, (sense.abbreviation, common)


@pytest.mark.parametrize(("lang", "dictated", "abbreviation"),
                         [("en", "aspirin 75 mg QD", "QD"), ("en", "heparin 5000 units SC", "SC"),
                          ("en", "insulin 10 U at night", "U"), ("en", "morphine MS 10 mg", "MS")])
def test_do_not_use_abbreviations_are_flagged_never_expanded(expanding: TextLayer, lang: str, dictated: str,
                                                             abbreviation: str) -> None:
    result = expanding.clean_text(dictated, lang)
    assert abbreviation in result.text.split()
    assert [f for f in result.flags if f.kind == "abbreviation" and abbreviation in f.reason]



# --- the same medicine in the other language's spelling is written in the dictation's language ---------
@pytest.mark.parametrize(
    ("lang", "dictated", "written"),
    [
        ("fr", "sous levothyroxine 75 microgrammes", "lévothyroxine"),
        ("fr", "paracetamol 1 g trois fois par jour", "Paracétamol"),
        ("fr", "relais par metformin 1000 mg", "metformine"),
        ("en", "started métronidazole 500 mg", "metronidazole"),
        ("en", "she takes metformine daily", "metformin"),
    ],
)
def test_the_same_medicine_spelled_the_other_language_s_way_is_respelled_as_an_edit(
        text_layer: TextLayer, lang: str, dictated: str, written: str) -> None:
    result = clean(text_layer, dictated, lang)
    assert written in result.text
    (edit,) = [e for e in result.edits if "term" in e.rule]
    assert edit.after.lower() == written.lower()  # an edit she sees and can undo: same substance, no audio needed
