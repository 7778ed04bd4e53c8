"""FAQ entries: generated from the catalog (direct sentence first), curated, merged,
the FAQ's own lexicon files, the strict catalog loader, and the regression eval set."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from knowledge_base.faq.entries import (INFERRED_NOTE, TOPICS, FaqEntry, build_entries, generate_entries,
                                        load_catalog, load_curated, merge_entries)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@pytest.fixture(scope="module")
def faq_catalog():
    return load_catalog(DATA)


@pytest.fixture(scope="module")
def entries(faq_catalog):
    return build_entries(faq_catalog, DATA)


def test_generated_entries_cover_every_item_and_topic(faq_catalog):
    gen = generate_entries(faq_catalog)
    ids = {e.id for e in gen}
    assert faq_catalog.items, "catalog has items"
    for code, item in faq_catalog.items.items():
        for topic in ("scope", "time_limit", "department", "general"):
            assert f"{code}.{topic}" in ids
        if item.materials:
            assert f"{code}.materials" in ids
        if item.fee is None:
            assert f"{code}.fee" not in ids
        assert f"{code}.commitment" in ids  # 「X能告知承诺吗」 always has the permit's own answer
    by_id = {e.id: e for e in gen}
    unstated = [c for c, it in faq_catalog.items.items() if it.commitment is None]
    assert unstated  # answered from the reform mode, marked as inferred
    for code in unstated:
        e = by_id[f"{code}.commitment"]
        assert e.inferred and INFERRED_NOTE in e.answer and "告知承诺" in e.direct, code
    for e in gen:
        assert e.topic in TOPICS and e.origin == "generated"
        assert e.id in (f"{e.item_code}.{e.topic}",
                        *((f"{e.item_code}.after", f"{e.item_code}.unlicensed") if e.topic == "general" else ()))
        assert len(e.texts()) >= 5, e.id  # several wordings per entry
        assert e.sources and "来源：" in e.answer, e.id


def test_each_permit_has_an_after_licence_entry_with_its_legal_basis(faq_catalog):
    gen = {e.id: e for e in generate_entries(faq_catalog)}
    for code, item in faq_catalog.items.items():
        after = gen.get(f"{code}.after")
        if item.kind == "startup":  # 营业执照、刻章、开户、社保: no permit to display or lend
            assert after is None, code
            continue
        assert after is not None and after.topic == "general" and after.item_code == code, code
        assert after.direct.startswith(f"{'拿到' if item.kind == 'permit' else '办好'}{item.name}以后") and "不出租出借" in after.direct, code
        for basis in ("市场主体登记管理条例第36条", "企业信息公示暂行条例第8条", "国办发〔2015〕58号"):
            assert basis in after.answer, (code, basis)
        # 行政许可法 governs permits: a filing's or registration's no-lending rule is not cited to it
        assert ("行政许可法第80条" in after.answer) == (item.kind == "permit"), code
        assert ("行政许可法第61条" in after.answer) == (item.kind == "permit"), code
        assert "年检" not in after.answer  # some permits do have periodic 校验 or 年审: never say there is none
        assert after.inferred and INFERRED_NOTE in after.answer  # displaying the permit itself is not in a text read
        assert any("挂在店里" in t for t in after.texts()) and any("借给别人" in t for t in after.texts()), code
    assert "证照" not in gen["food_business_license.general"].direct  # the what-is-it entry is unchanged


def test_each_permit_says_what_operating_without_it_brings(faq_catalog):
    gen = {e.id: e for e in generate_entries(faq_catalog)}
    for code, item in faq_catalog.items.items():
        e = gen.get(f"{code}.unlicensed")
        if item.kind == "startup":
            assert e is None, code
            continue
        assert e is not None and e.topic == "general" and e.item_code == code, code
        permit = item.kind == "permit"
        # 无证经营 is a permit's notion (无证无照经营查处办法 第2、5、13条): a filing or a registration is not said to be it
        assert ("无证经营" in e.direct) == permit and ("第684号" in e.answer) == permit, code
        assert ("无证无照经营查处办法第2条" in e.answer) == permit, code
        assert f"{item.name}的设定依据" in e.answer, code  # the penalty is the permit's own law's
        assert e.inferred and "【推断" in e.answer and INFERRED_NOTE in e.answer, code
        assert any("罚款" in t for t in e.texts()) and any("开业" in t for t in e.texts()), code
    # a registration of equipment: stopped from use; a shop's filing: no equipment
    assert "停止使用" in gen["special_equipment_elevator.unlicensed"].answer
    assert "停止使用" not in gen["food_prepackaged_filing.unlicensed"].answer


def test_every_answer_opens_with_a_direct_sentence(entries):
    for e in entries:
        assert e.direct and e.direct.endswith(("。", "？", "！")), e.id
        assert e.answer.splitlines()[0].startswith(e.direct.rstrip("。")[:12]), e.id
        assert len(e.direct) <= 130, e.id


def test_direct_sentence_answers_as_asked(faq_catalog):
    gen = {e.id: e for e in generate_entries(faq_catalog)}
    item = faq_catalog.items["food_business_license"]
    assert gen["food_business_license.fee"].direct == "不收费。"
    tl = gen["food_business_license.time_limit"].direct
    assert f"{item.time_limit.statutory_days}个工作日" in tl
    assert gen["food_business_license.department"].direct == f"由{item.department}办理。"
    assert gen["food_business_license.validity"].direct.startswith("有效期5年")
    assert gen["food_business_license.materials"].direct.startswith(f"一般要交{len(item.materials)}样材料")


def test_generated_answer_is_rendered_from_the_item_facts(faq_catalog):
    item = faq_catalog.items["food_business_license"]
    gen = {e.id: e for e in generate_entries(faq_catalog)}
    tl = gen["food_business_license.time_limit"]
    assert item.time_limit.text in tl.answer
    assert "食品证" in " ".join(tl.paraphrases)  # aliases appear in the wordings
    if item.time_limit.inferred:
        assert tl.inferred and INFERRED_NOTE in tl.answer
    src_titles = [faq_catalog.source(item, k).title for k in item.time_limit.src]
    assert all(t in tl.answer for t in src_titles)
    mats = gen["food_business_license.materials"]
    for m in item.materials:
        assert m.name in mats.answer


def test_curated_entries_are_valid_and_have_paraphrases():
    curated = load_curated(DATA / "faq" / "curated.yaml")
    assert len(curated) >= 15
    ids = [e.id for e in curated]
    assert len(ids) == len(set(ids))
    for e in curated:
        assert e.origin == "curated" and e.topic in TOPICS
        assert len(e.paraphrases) >= 3, e.id
        assert e.sources, e.id
        if e.inferred:
            assert INFERRED_NOTE in e.answer
    for key in ("general.gaozhi_chengnuo", "general.rongque_shouli", "general.yizhao_tongxing",
                "general.license_qrcode", "general.online", "general.yanxu", "general.yiye_yizheng"):
        assert key in ids
    assert not any("投诉" in t for e in curated for t in e.texts()), "complaints are out of scope"


def test_faq_lexicon_files_name_real_items(faq_catalog):
    from knowledge_base.faq.build import lexicon

    lex = lexicon(faq_catalog, DATA, [])
    for word, codes in [*lex["item_words"].items(), *lex["hint_words"].items()]:
        assert all(c in faq_catalog.items for c in codes), word
    assert lex["item_words"]["烟证"] == ["tobacco_retail"]
    assert "卫生证" in lex["item_words"] and "执照" in lex["item_words"]
    assert "开办企业" not in lex["item_words"]  # the start-up steps together, not one item
    assert lex["refusal_intents"]["complaint"] and lex["refusal_subjects"]


def test_override_parts_expand_once_and_unknown_parts_fail():
    from knowledge_base.faq.build import expand_parts

    parts = {"seal_needed": "(要不要|得)(带)?公章"}
    assert expand_parts("(社保|参保).{0,4}<seal_needed>", parts) == "(社保|参保).{0,4}(要不要|得)(带)?公章"
    # a lookbehind and a named group are regex syntax, not references
    assert expand_parts("(?<!社保)开户(?P<x>公章)", parts) == "(?<!社保)开户(?P<x>公章)"
    with pytest.raises(ValueError, match="seal_missing"):
        expand_parts("公积金<seal_missing>", parts)


def test_shared_override_part_reaches_every_override_that_names_it(faq_catalog):
    from knowledge_base.faq.build import lexicon

    lex = lexicon(faq_catalog, DATA, [])
    seal = "(公章|章)(还)?没(刻|有|下来)"
    for code in ("bank_account", "tax_invoice", "social_insurance", "housing_fund"):
        assert any(seal in p for p in lex["overrides"][code]), code
    assert not any("<seal_needed>" in p for ps in lex["overrides"].values() for p in ps)


def test_twin_overrides_share_one_word_list(faq_catalog):
    """The two prepackaged overrides (「都是…」, 「只卖…」) and the two disinfection-product ones (making
    them, a factory of them) each take their list from one part, so a word added reaches both."""
    import re

    from knowledge_base.faq.build import lexicon

    lex = lexicon(faq_catalog, DATA, [])
    said = {"food_prepackaged_filing": ["店里全是整箱的", "只卖整箱的牛奶饮料"],
            "disinfection_product": ["我们生产免洗洗手液", "洗手液小厂要办卫生许可吗"]}
    for code, questions in said.items():
        for q in questions:
            assert any(re.search(p, q) for p in lex["overrides"][code]), (code, q)


def test_strict_catalog_loader_refuses_a_broken_item(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA / "catalog", data / "catalog")
    (data / "catalog" / "items" / "broken.yaml").write_text("code: broken\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(Exception):
        load_catalog(data)


def test_override_is_visible_and_moves_wordings():
    gen = [FaqEntry(id="x_item.fee", item_code="x_item", topic="fee", question="X收费吗？",
                    paraphrases=["办X要钱吗"], answer="免费。", origin="generated")]
    cur = [FaqEntry(id="x.fee_fix", item_code=None, topic="fee", question="X到底收不收费？",
                    answer="不收费，但检测费另计。", origin="curated", overrides="x_item.fee")]
    merged = {e.id: e for e in merge_entries(gen, cur)}
    assert merged["x_item.fee"].overridden_by == "x.fee_fix"
    assert not merged["x_item.fee"].active
    assert "办X要钱吗" in merged["x.fee_fix"].texts()
    assert merged["x.fee_fix"].item_code == "x_item"


def test_content_hash_changes_with_content():
    a = FaqEntry(id="a.b", topic="general", question="问", answer="答")
    b = a.model_copy(update={"answer": "答2"})
    assert a.content_hash() != b.content_hash()
    assert a.content_hash() == a.model_copy().content_hash()


def test_eval_set_is_labelled_and_split_honestly(entries):
    raw = yaml.safe_load((DATA / "faq" / "eval.yaml").read_text(encoding="utf-8"))
    cal, test = raw["calibration"], raw["test"]
    assert len(cal["in_scope"]) + len(test["in_scope"]) >= 150
    qs_cal = {r["q"] for r in cal["in_scope"]} | set(cal["out_of_scope"])
    qs_test = {r["q"] for r in test["in_scope"]} | set(test["out_of_scope"])
    assert not qs_cal & qs_test, "calibration and test must not share questions"
    wordings = {t for e in entries for t in e.texts()}
    for r in cal["in_scope"] + test["in_scope"]:
        assert r["q"] not in wordings, f"eval question copied from an entry: {r['q']}"


def test_no_blind_calibration_question_is_copied_into_a_wording(entries):
    raw = yaml.safe_load((ROOT / "benchmarks" / "data" / "faq_blind_calib.yaml").read_text(encoding="utf-8"))
    wordings = {t for e in entries for t in e.texts()}
    copied = [r["q"] for r in raw["in_scope"] if r["q"] in wordings]
    assert not copied, copied


def test_the_reform_has_an_entry_per_topic_callers_ask_and_each_figure_is_its_seeds():
    curated = {e.id: e for e in load_curated(DATA / "faq" / "curated.yaml")}
    reform = {"general.reform_time_limit": "time_limit", "general.reform_fee": "fee",
              "general.reform_optional": "process", "general.reform_apply": "process",
              "general.reform_where": "department"}
    for eid, topic in reform.items():
        e = curated[eid]
        assert e.topic == topic and {"一照通行", "证照联办", "一业一证"} <= set(e.terms), eid
        assert e.direct and e.answer.startswith(e.direct) and "来源：" in e.answer, eid
    # 双轨并行 is written in the 中山 and 阳江 plans only; elsewhere the answer says it is inferred
    optional = curated["general.reform_optional"]
    assert optional.direct.startswith("不是必须的") and optional.inferred
    assert any("中山" in s for s in optional.sources) and any("阳江" in s for s in optional.sources)
    # the one-working-day figure is 中山's (and 睢县's simple packages); 阳江's plan gives no number
    for e in curated.values():
        for line in e.answer.splitlines():
            assert not ("阳江" in line and "1个工作日" in line and "中山、阳江" in line), (e.id, line)


def test_a_regions_own_threshold_leads_the_scope_answer_there(faq_catalog):
    """同心 registers a 小餐饮 of 150 ㎡ or less instead of licensing it: a scope answer on the food
    licence that opened with the national rule (都要先取得食品经营许可证) told an 80 ㎡ snack bar there to
    get the wrong permit; there it opens with the county's threshold instead, elsewhere with the national rule."""
    from knowledge_base.faq.answers import compose
    from knowledge_base.faq.build import item_facts, region_facts

    regions, items = region_facts(faq_catalog), item_facts(faq_catalog)
    entry = next(e for e in generate_entries(faq_catalog) if e.id == "food_business_license.scope")
    national, direct, _ = compose(entry, regions=regions, items=items)
    assert direct == entry.direct and "150" not in national
    there, direct, short = compose(entry, regions=regions, items=items, region="tongxin")
    assert direct.startswith("在同心") and "150平米" in direct and "登记证" in direct
    # it takes the national sentence's place (wrong there); the national cases still follow
    assert there.startswith(direct) and entry.direct not in there and "需要办理的情形" in there
    assert "150平米" in short
    suixian, direct, _ = compose(entry, regions=regions, items=items, region="suixian")
    assert direct.startswith("在睢县") and "60平方米" in direct
    other, direct, _ = compose(entry, regions=regions, items=items, region="zhongshan")
    assert direct == entry.direct  # 中山 has no threshold of its own
    reg = next(e for e in generate_entries(faq_catalog) if e.id == "nx_food_registration.scope")
    _, direct, _ = compose(reg, regions=regions, items=items, region="tongxin")
    assert direct.startswith("在同心") and "超过的办食品经营许可证" in direct
