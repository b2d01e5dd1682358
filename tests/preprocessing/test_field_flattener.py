import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdsc.preprocessing import FieldFlattener


def _da(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(10, 3, 4, 2))
    return xr.DataArray(
        X,
        dims=("time", "lat", "lon", "variable"),
        coords={
            "time": pd.date_range("2021-01-01", periods=10),
            "lat": [10.0, 20.0, 30.0],
            "lon": [1.0, 2.0, 3.0, 4.0],
            "variable": ["t2m", "sst"],
        },
        name="era5",
    )


@pytest.mark.parametrize("shape", [(7, 3, 4, 2), (7, 5, 6), (7, 4)])
def test_numpy_round_trip(shape):
    X = np.random.default_rng(0).normal(size=shape)
    ff = FieldFlattener().fit(X)
    Xt = ff.transform(X)
    assert Xt.shape == (7, int(np.prod(shape[1:])))
    np.testing.assert_array_equal(Xt[2], X[2].ravel())
    np.testing.assert_array_equal(ff.inverse_transform(Xt), X)
    assert len(ff.get_feature_names_out()) == Xt.shape[1]


def test_dataarray_round_trip_keeps_coords():
    da = _da()
    ff = FieldFlattener().fit(da)
    Xt = ff.transform(da)
    assert isinstance(Xt, xr.DataArray) and Xt.dims == ("time", "feature")
    back = ff.inverse_transform(Xt)
    xr.testing.assert_identical(back, da)
    back_np = ff.inverse_transform(np.asarray(Xt))  # no sample coordinate to restore
    assert back_np.dims == da.dims and "time" not in back_np.coords
    np.testing.assert_array_equal(back_np["variable"], ["t2m", "sst"])
    names = ff.get_feature_names_out()
    assert names[1] == "era5[lat=10.0, lon=1.0, variable=sst]"


def test_sample_dim_moved_to_front():
    da = _da().transpose("lat", "time", "lon", "variable")
    ff = FieldFlattener(sample_dim="time").fit(da)
    Xt = ff.transform(da)
    np.testing.assert_array_equal(np.asarray(Xt), _da().values.reshape(10, -1))


def test_seed000_pipeline_matches_direct_computation():
    X = np.random.default_rng(1).normal(size=(20, 3, 4, 2))
    X[:, 0, 0, :] = np.nan  # land: all-NaN columns
    X[3, 2, 1, 1] = np.nan  # a gap
    prep = make_pipeline(
        FieldFlattener(), SimpleImputer(strategy="mean", keep_empty_features=True), MinMaxScaler()
    )
    Xt = prep.fit_transform(X)
    assert Xt.shape == (20, 24)  # no column dropped
    flat = X.reshape(20, -1).copy()
    col_mean = np.nanmean(np.where(np.isnan(flat).all(0), 0.0, flat), axis=0)
    filled = np.where(np.isnan(flat), col_mean, flat)
    rng_ = filled.max(0) - filled.min(0)
    expected = (filled - filled.min(0)) / np.where(rng_ == 0, 1, rng_)
    np.testing.assert_allclose(Xt, expected, atol=1e-12)
    assert (Xt[:, :2] == 0).all()

    # the seed's global-mean fill, composed with a constant imputer
    g = float(np.nanmean(X))
    prep_g = make_pipeline(
        FieldFlattener(),
        SimpleImputer(strategy="constant", fill_value=g, keep_empty_features=True),
        MinMaxScaler(),
    )
    Xg = prep_g.fit_transform(X)
    filled_g = np.where(np.isnan(flat), g, flat)
    rng_g = filled_g.max(0) - filled_g.min(0)
    np.testing.assert_allclose(
        Xg, (filled_g - filled_g.min(0)) / np.where(rng_g == 0, 1, rng_g), atol=1e-12
    )


def test_errors():
    ff = FieldFlattener().fit(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="per-sample shape"):
        ff.transform(np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="inverse_transform expects"):
        ff.inverse_transform(np.zeros((3, 5)))
