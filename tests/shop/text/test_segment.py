import os

from shop.text.segment import dedup_key, load_user_dictionaries, segments


def test_blank_pieces_are_dropped_and_offsets_kept():
    text = "我要 退货"
    found = segments(text)
    assert all(word.strip() for word, _, _ in found)
    assert [text[start:end] for _, start, end in found] == [word for word, _, _ in found]


def test_a_user_dictionary_is_read_again_when_it_changes(tmp_path):
    dictionary = tmp_path / "shop.txt"
    dictionary.write_text("咕噜噜鸭 100000\n", encoding="utf-8")
    load_user_dictionaries(tmp_path)
    assert ("咕噜噜鸭", 0, 4) in segments("咕噜噜鸭好吃吗")
    dictionary.write_text("咕噜噜鸭 100000\n喵喵汪汪 100000\n", encoding="utf-8")
    stat = dictionary.stat()
    os.utime(dictionary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    load_user_dictionaries(str(tmp_path))
    assert ("喵喵汪汪", 0, 4) in segments("喵喵汪汪")


def test_the_same_example_in_other_clothes_has_one_key():
    assert dedup_key("還有貨嗎？？") == dedup_key("还有货吗") == dedup_key(" 还有 货吗!")
    assert dedup_key("还有货吗") != dedup_key("还有货么")
