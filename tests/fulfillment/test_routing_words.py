"""Routing's words (fulfillment/routing/words.py): a decision is written in English and read in the reader's
language; the English a decision stores is unchanged."""

from django.utils import translation

from fulfillment.routing import words
from fulfillment.routing.words import in_words

REASON = "SHA: lowest score 10 (distance 3, cost 5, split 0, load 2, balance 0), policy default"


def test_a_verdict_and_its_comparison_read_in_chinese():
    verdict = words.CHOSEN_LOWEST % {"score": "12.5", "compare": words.CHEAPER % {"money": "¥3.20"}, "other": "BJS"}
    assert verdict == "chosen: lowest score 12.5; cheaper by ¥3.20 than BJS"
    with translation.override("zh-hans"):
        assert in_words(verdict) == "已选：得分最低 12.5；比 BJS 便宜 ¥3.20"
    with translation.override("en"):
        assert in_words(verdict) == verdict


def test_reasons_joined_by_semicolons_are_read_one_by_one():
    text = "; ".join([words.SHORT_OF_SKUS % {"skus": "A1, B2"}, words.AT_CAPACITY % {"used": 3, "capacity": 3}])
    with translation.override("zh-hans"):
        assert in_words(text) == "缺货：A1, B2；产能已满（今天 3/3）"


def test_the_windows_reason_nests_the_decisions_reason_and_its_terms():
    why = words.WINDOW_STOCK % {"sku": "A1", "location": "BJS", "orders": "SO1"}
    text = words.WINDOW_REASON % {"reason": REASON, "codes": "BJS", "why": why}
    assert text == REASON + "; BJS not used: stock of A1 at BJS went to orders SO1."
    with translation.override("zh-hans"):
        assert in_words(text) == (
            "SHA：得分最低 10（距离 3, 成本 5, 拆单 0, 负荷 2, 均衡 0），策略 default；"
            "未用 BJS：BJS 的 A1 库存分给了订单 SO1。"
        )


def test_text_that_is_no_routing_phrase_stays_as_it_is():
    with translation.override("zh-hans"):
        assert in_words("a reason cut at 255 charac") == "a reason cut at 255 charac"
        assert in_words("") == ""
        assert in_words(None) is None


def test_every_phrase_has_chinese():
    with translation.override("zh-hans"):
        untranslated = [p for p in words.PHRASES if translation.gettext(p) == p]
    assert untranslated == []


def test_a_decisions_kind_and_the_builtin_policy_read_in_chinese():
    with translation.override("zh-hans"):
        assert [in_words(k) for k in ("reroute", "split", "backorder")] == ["改派", "拆单", "缺货待发"]
        assert in_words(words.BUILTIN_POLICY) == "内置默认"
