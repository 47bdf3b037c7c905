"""Text prepared for speech (robot/speech/spoken_text.py), on a table of cases: numbers, times, dates, ordinals,
money, units, percentages, arithmetic, symbols and abbreviations, in English and Chinese."""

from __future__ import annotations

import pytest

from robot.speech.spoken_text import for_speech


@pytest.mark.parametrize(("written", "said"), [
    ("The time is 14:50.", "The time is fourteen fifty."),
    ("It's 9:05 now.", "It's nine oh five now."),
    ("It's 10:00.", "It's ten o'clock."),
    ("It's 0:00.", "It's midnight."), ("At 18:00 sharp", "At eighteen hundred sharp"),
    ("4140", "four thousand one hundred and forty"),
    ("That is 1,250 people.", "That is one thousand two hundred and fifty people."),
    ("That's 15%.", "That's fifteen percent."),
    ("It went up 2.5 %.", "It went up two point five percent."),
    ("10 miles is 16.09 kilometers.", "ten miles is sixteen point zero nine kilometers."),
    ("Today is Friday 25 December 2026.", "Today is Friday the twenty-fifth of December twenty twenty-six."),
    ("Born on July 4th, 1999.", "Born on July fourth nineteen ninety-nine."),
    ("It opened on 1 January 2005.", "It opened on the first of January two thousand and five."),
    ("It costs $9.99.", "It costs nine dollars and ninety-nine cents."),
    ("It costs £1.", "It costs one pound."),
    ("€20.01 each", "twenty euros and one cent each"),
    ("R2-Detour.", "R two Detour."),
    ("12*7 = 84", "twelve times seven equals eighty-four"),
    ("100 - 25 = 75", "one hundred minus twenty-five equals seventy-five"),
    ("-3 + 5 = 2", "minus three plus five equals two"),
    ("2 ^ 10 = 1024", "two to the power of ten equals one thousand and twenty-four"),
    ("It is 3rd in line.", "It is third in line."),
    ("Drive at 60 km/h.", "Drive at sixty kilometres per hour."),
    ("It weighs 1 kg, not 5 kg.", "It weighs one kilogram, not five kilograms."),
    ("It's 20 °C outside.", "It's twenty degrees Celsius outside."),
    ("Dr. Smith & Mr. Jones, e.g. us", "Doctor Smith and Mister Jones, for example us"),
    ("Christmas is in 23 days.", "Christmas is in twenty-three days."),
    ("no digits here", "no digits here"),
])
def test_english(written, said):
    assert for_speech(written) == said


@pytest.mark.parametrize(("written", "said"), [
    ("现在是14:50。", "现在是十四点五十分。"), ("现在是9:00。", "现在是九点整。"),
    ("今天是2026年12月25日。", "今天是二零二六年十二月二十五日。"), ("是15%。", "是百分之十五。"),
    ("答案是16.09。", "答案是十六点零九。"), ("4140", "四千一百四十"),
])
def test_chinese(written, said):
    assert for_speech(written, "zh") == said


def test_other_languages_are_left_to_their_voice():
    assert for_speech("Il est 14:50.", "fr") == "Il est 14:50."


@pytest.mark.parametrize("text, final, said", [
    ("Hello there! How are", False, "Hello there!"),
    ("It is 3.", False, ""),  # a decimal point or a sentence's end: what follows tells
    ("It is 3.5 degrees. Nice", False, "It is 3.5 degrees."),
    ("Wait... what? Yes", False, "Wait... what?"),
    ('He said "hi." Then', False, 'He said "hi."'),
    ("好的。今天", False, "好的。"),
    ("好的。", False, ""),
    ("Done.", True, "Done."),
    ("  a last few words ", True, "a last few words"),
])
def test_complete_sentences_of_text_still_being_written(text, final, said):
    from robot.speech.sentences import complete_sentences

    sentences, taken = complete_sentences(text, final)
    assert sentences == said
    assert text[:taken].strip() == said
    assert final or taken == 0 or text[taken - 1].isspace() or text[taken - 1] in "。"  # cut after the mark
