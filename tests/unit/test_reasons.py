"""Reasons are a code plus parameters, rendered once: the text is the JSON's, and code acts on the code."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from dira_genotyper.reasons import Reason, render


def test_reason_is_its_rendered_text_and_keeps_code_and_params():
    reason = Reason("exon_no_call", gene="IL1RN", exon=3)
    assert reason == "IL1RN exon 3: copy number not called, so a deletion of it cannot be excluded"
    assert (reason.code, dict(reason.params)) == ("exon_no_call", {"gene": "IL1RN", "exon": 3})
    assert json.dumps([reason]) == json.dumps([str(reason)])
    for clone in (copy.deepcopy(reason), pickle.loads(pickle.dumps(reason))):
        assert clone == reason and clone.code == reason.code and dict(clone.params) == dict(reason.params)


def test_optional_parts_and_lists_render_as_the_report_words_them():
    plain = Reason("cnv_gene_not_called", gene="IL1RN", quality=12.34, min_quality=20.0, junction_reads=None)
    assert plain == "IL1RN: copy number not called, posterior quality 12.3 < 20"
    with_reads = Reason("cnv_gene_not_called", gene="IL1RN", quality=12.34, min_quality=20.0, junction_reads=4)
    assert with_reads.endswith("(4 junction reads)")
    blockers = (Reason("gene_no_call", gene="IL1RN"), Reason("exon_no_call", gene="IL1RN", exon=2))
    joined = Reason("second_not_excluded", blockers=blockers)
    assert joined == "one LoF allele found, but a second cannot be excluded: " + "; ".join(blockers)
    assert Reason("exons_not_callable", gene="G", exons=(2, 3), depths=()).count("the threshold") == 1


def test_an_unknown_code_is_an_error():
    with pytest.raises(ValueError, match="unknown reason code"):
        Reason("no_such_code")
    with pytest.raises(ValueError, match="unknown reason code"):
        render("no_such_code", {})
