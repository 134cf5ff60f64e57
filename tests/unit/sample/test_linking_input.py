from lienthong.sample.linking_input import split_address


def test_an_address_splits_into_hamlet_and_commune_as_staging_reads_it():
    """A hamlet word written out, run together with its number or abbreviated with a dot is the
    hamlet; an address that starts with the commune has none."""
    assert split_address("Khu phố 24, Phường Tân Ninh") == ("Khu phố 24", "Phường Tân Ninh")
    assert split_address("KP12, P. Long Thành Trung") == ("KP12", "P. Long Thành Trung")
    assert split_address("kp.12, P. Long Thành Trung") == ("kp.12", "P. Long Thành Trung")
    assert split_address("Ấp. Bắc, X. Phước Vinh") == ("Ấp. Bắc", "X. Phước Vinh")
    assert split_address("Tổ.3, Xã Tân Phú") == ("Tổ.3", "Xã Tân Phú")
    assert split_address("Phường Tân Ninh, Tỉnh Tây Ninh") == ("", "Phường Tân Ninh, Tỉnh Tây Ninh")
    assert split_address("Tân Phú, X. An Ninh") == ("", "Tân Phú, X. An Ninh")
